import Foundation
import Logging
import NIOCore
import SQLiteNIO

/// The agent's local registry (Fig. 3's management-information registry), SQLite in the
/// data directory: packages received, sessions run.
public actor AgentRegistry {
    let connection: SQLiteConnection

    /// A package the terminal holds.
    public struct Package: Sendable, Equatable {
        public var name: String
        public var version: String
        public var sha256: String
        public var size: Int64
        public var path: String
    }

    /// Opens (and creates) `DIR/registry.sqlite`.
    public static func open(directory: URL, logger: Logger) async throws -> AgentRegistry {
        let path = directory.appendingPathComponent("registry.sqlite").path
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw AgentError(.storage, "cannot open the registry \(path): \(error)")
        }
        let registry = AgentRegistry(connection: connection)
        try await registry.migrate()
        return registry
    }

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    func migrate() async throws {
        for statement in [
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            """
            CREATE TABLE IF NOT EXISTS packages (
              sha256 TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL,
              path TEXT NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (name, version))
            """,
            """
            CREATE TABLE IF NOT EXISTS sessions (
              id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, server TEXT NOT NULL,
              result TEXT NOT NULL, bytes_sent INTEGER NOT NULL, bytes_received INTEGER NOT NULL)
            """,
        ] {
            _ = try await connection.query(statement)
        }
    }

    /// Records a verified package.
    public func recordPackage(_ package: Package) async throws {
        _ = try await connection.query(
            "INSERT OR REPLACE INTO packages (sha256, name, version, size, path, received_at) VALUES (?, ?, ?, ?, ?, ?)",
            [.text(package.sha256), .text(package.name), .text(package.version), .integer(Int(package.size)), .text(package.path),
             .float(Date().timeIntervalSince1970)]
        )
    }

    /// The packages the terminal holds.
    public func packages() async throws -> [Package] {
        try await connection.query("SELECT sha256, name, version, size, path FROM packages ORDER BY name, version").map { row in
            Package(
                name: row.column("name")?.string ?? "", version: row.column("version")?.string ?? "",
                sha256: row.column("sha256")?.string ?? "", size: Int64(row.column("size")?.integer ?? 0),
                path: row.column("path")?.string ?? ""
            )
        }
    }

    /// Records the outcome of a session, for `status` and later diagnosis.
    public func recordSession(server: String, result: String, bytesSent: Int, bytesReceived: Int) async throws {
        _ = try await connection.query(
            "INSERT INTO sessions (started_at, server, result, bytes_sent, bytes_received) VALUES (?, ?, ?, ?, ?)",
            [.float(Date().timeIntervalSince1970), .text(server), .text(result), .integer(bytesSent), .integer(bytesReceived)]
        )
    }

    /// The last session's server and result.
    public func lastSession() async throws -> (server: String, result: String, at: Date)? {
        guard let row = try await connection.query("SELECT started_at, server, result FROM sessions ORDER BY id DESC LIMIT 1").first else {
            return nil
        }
        return (row.column("server")?.string ?? "", row.column("result")?.string ?? "", Date(timeIntervalSince1970: row.column("started_at")?.double ?? 0))
    }

    /// Closes the database.
    public func close() async {
        try? await connection.close()
    }
}
