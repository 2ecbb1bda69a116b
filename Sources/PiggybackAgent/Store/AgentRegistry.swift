import Foundation
import Logging
import NIOCore
import PiggybackProtocol
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
            // The resident timer's collection and a session may write at the same moment.
            "PRAGMA busy_timeout=5000",
            """
            CREATE TABLE IF NOT EXISTS packages (
              sha256 TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL,
              path TEXT NOT NULL, received_at REAL NOT NULL, PRIMARY KEY (name, version))
            """,
            """
            CREATE TABLE IF NOT EXISTS inventory_snapshots (
              version INTEGER PRIMARY KEY, full_at REAL NOT NULL, taken_at REAL NOT NULL, data BLOB NOT NULL)
            """,
            """
            CREATE TABLE IF NOT EXISTS sessions (
              id INTEGER PRIMARY KEY AUTOINCREMENT, started_at REAL NOT NULL, server TEXT NOT NULL,
              result TEXT NOT NULL, bytes_sent INTEGER NOT NULL, bytes_received INTEGER NOT NULL)
            """,
        ] {
            _ = try await connection.query(statement)
        }
        try await migrateLocalInventory()
        try await migrateInstalls()
        try await migrateCollection()
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

    /// An inventory as the server holds it after a given upload: the base of the next delta.
    public struct Snapshot: Sendable {
        public var version: UInt64
        /// When the full upload this one descends from was sent (for the periodic resync).
        public var fullAt: Date
        public var sections: [WireInventorySection]
    }

    /// Stores the snapshot for `version` (replacing one of the same version).
    public func saveSnapshot(_ snapshot: Snapshot) async throws {
        var message = WireInventory()
        message.sections = snapshot.sections
        let bytes: [UInt8] = try message.serializedBytes()
        _ = try await connection.query(
            "INSERT OR REPLACE INTO inventory_snapshots (version, full_at, taken_at, data) VALUES (?, ?, ?, ?)",
            [.integer(Int(clamping: snapshot.version)), .float(snapshot.fullAt.timeIntervalSince1970),
             .float(Date().timeIntervalSince1970), .blob(ByteBuffer(bytes: bytes))]
        )
    }

    /// The snapshot for `version`, or nil when this terminal never sent it.
    public func snapshot(version: UInt64) async throws -> Snapshot? {
        let rows = try await connection.query(
            "SELECT full_at, data FROM inventory_snapshots WHERE version = ?", [.integer(Int(clamping: version))])
        guard let row = rows.first, case .blob(var buffer)? = row.column("data") else { return nil }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let message = try? WireInventory(serializedBytes: bytes) else { return nil }
        return Snapshot(
            version: version, fullAt: Date(timeIntervalSince1970: row.column("full_at")?.double ?? 0), sections: message.sections)
    }

    /// Forgets every snapshot but those listed.
    public func pruneSnapshots(keeping versions: [UInt64]) async throws {
        let list = versions.map { String(Int(clamping: $0)) }.joined(separator: ",")
        _ = try await connection.query("DELETE FROM inventory_snapshots WHERE version NOT IN (\(list.isEmpty ? "-1" : list))")
    }

    /// Records the outcome of a session, for `status` and later diagnosis.
    public func recordSession(server: String, result: String, bytesSent: Int, bytesReceived: Int) async throws {
        _ = try await connection.query(
            "INSERT INTO sessions (started_at, server, result, bytes_sent, bytes_received) VALUES (?, ?, ?, ?, ?)",
            [.float(Date().timeIntervalSince1970), .text(server), .text(result), .integer(bytesSent), .integer(bytesReceived)]
        )
    }

    /// Closes the database.
    /// Closes the connection, even from a cancelled task (a session stopped by SIGTERM):
    /// the close runs in a task of its own, which the caller's cancellation does not reach.
    public func close() async {
        let connection = self.connection
        await Task { try? await connection.close() }.value
    }
}
