import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The server's database: embedded SQLite by default, PostgreSQL for several replicas.
///
/// Owns the Fluent `Databases` and runs the migrations on open; the same schema on both.
public final class ServerStore: Sendable {
    let databases: Databases
    let closed = Mutex(false)
    /// The database handle every component queries through.
    let db: any Database
    /// Which backend is in use (`sqlite` or `postgres`), for logs and status.
    public let backend: String

    /// Opens (and migrates) the database named by `database`: `sqlite` or a `postgres://` URL.
    public static func open(database: String, dataDirectory: URL, logger: Logger) async throws -> ServerStore {
        let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        let backend: String
        if database == "sqlite" || database.isEmpty {
            let path = dataDirectory.appendingPathComponent("piggyback.sqlite").path
            databases.use(.sqlite(.file(path), maxConnectionsPerEventLoop: 1), as: .sqlite)
            backend = "sqlite"
        } else if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            do {
                databases.use(try .postgres(url: database, maxConnectionsPerEventLoop: 4), as: .psql)
            } catch {
                await databases.shutdownAsync()
                throw ServerError(.configuration, "--database \(database) is not a usable PostgreSQL URL: \(error)")
            }
            backend = "postgres"
        } else {
            await databases.shutdownAsync()
            throw ServerError(.configuration, "--database must be `sqlite` or a postgres:// URL, got \(database)")
        }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let migrations = Migrations()
        migrations.add(CreateSchema())
        migrations.add(CreateInventoryTables())
        migrations.add(CreateLabelTables())
        migrations.add(CreateHistoryIndex())
        migrations.add(CreateDeliveryColumns())
        migrations.add(CreateAlertTables())
        migrations.add(CreateCollectionColumns())
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: eventLoop, migrationLogLevel: .debug)
        do {
            try await migrator.setupIfNeeded().get()
            try await migrator.prepareBatch().get()
        } catch {
            await databases.shutdownAsync()
            throw ServerError(.storage, "cannot open the \(backend) database: \(String(reflecting: error))")
        }
        guard let db = databases.database(logger: logger, on: eventLoop) else {
            await databases.shutdownAsync()
            throw ServerError(.storage, "the database was shut down while opening")
        }
        if backend == "sqlite", let sql = db as? any SQLDatabase {
            // WAL: one sync per commit instead of several, and readers never block the writer.
            // NORMAL keeps the database consistent on power loss; the last commits may be lost,
            // which costs at most a repeated offer (the terminal checks digests).
            do {
                try await sql.raw("PRAGMA journal_mode=WAL").run()
                try await sql.raw("PRAGMA synchronous=NORMAL").run()
            } catch {
                logger.warning("cannot switch SQLite to WAL", metadata: ["error": "\(error)"])
            }
        }
        return ServerStore(databases: databases, db: db, backend: backend)
    }

    init(databases: Databases, db: any Database, backend: String) {
        self.databases = databases
        self.db = db
        self.backend = backend
    }

    /// Closes every connection; later calls do nothing.
    public func close() async {
        let first = closed.withLock { done in
            defer { done = true }
            return !done
        }
        if first { await databases.shutdownAsync() }
    }
}
