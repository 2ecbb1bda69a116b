import Foundation
import NIOCore
import PiggybackProtocol
import SQLiteNIO

/// The inventory the terminal collected while offline (Fig. 3, 311–317): the latest
/// collection, the base the local change log compares against, and that log.
extension AgentRegistry {
    /// One recorded change: an item added (`old` nil), changed, or removed (`new` nil).
    public struct LocalChange: Sendable, Equatable {
        public var at: Date
        public var section: String
        public var key: String
        public var old: String?
        public var new: String?
    }

    /// A stored collection and when it was taken.
    public struct Collected: Sendable {
        public var at: Date
        public var sections: [WireInventorySection]
    }

    /// Most change-log entries kept; older ones go first.
    static let maxLocalChanges = 20_000

    func migrateLocalInventory() async throws {
        for statement in [
            "CREATE TABLE IF NOT EXISTS inventory_local (kind TEXT PRIMARY KEY, at REAL NOT NULL, data BLOB NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS inventory_log (
              id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, section TEXT NOT NULL, key TEXT NOT NULL,
              old TEXT, new TEXT)
            """,
        ] {
            _ = try await connection.query(statement)
        }
    }

    /// Stores `sections` as the `kind` collection (`collected`: as read; `logged`: the base
    /// of the change log, where drift below the thresholds is not taken in).
    func saveLocal(_ kind: String, at: Date, sections: [WireInventorySection]) async throws {
        var message = WireInventory()
        message.sections = sections
        let bytes: [UInt8] = try message.serializedBytes()
        _ = try await connection.query(
            "INSERT OR REPLACE INTO inventory_local (kind, at, data) VALUES (?, ?, ?)",
            [.text(kind), .float(at.timeIntervalSince1970), .blob(ByteBuffer(bytes: bytes))])
    }

    func local(_ kind: String) async throws -> Collected? {
        let rows = try await connection.query("SELECT at, data FROM inventory_local WHERE kind = ?", [.text(kind)])
        guard let row = rows.first, case .blob(var buffer)? = row.column("data") else { return nil }
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let message = try? WireInventory(serializedBytes: bytes) else { return nil }
        return Collected(at: Date(timeIntervalSince1970: row.column("at")?.double ?? 0), sections: message.sections)
    }

    /// The latest collection, or nil before the first.
    public func latestCollection() async throws -> Collected? {
        try await local("collected")
    }

    /// Appends to the change log, dropping the oldest entries beyond ``maxLocalChanges``.
    func appendChanges(_ changes: [LocalChange]) async throws {
        guard !changes.isEmpty else { return }
        _ = try await connection.query("BEGIN")
        do {
            for change in changes {
                _ = try await connection.query(
                    "INSERT INTO inventory_log (at, section, key, old, new) VALUES (?, ?, ?, ?, ?)",
                    [.float(change.at.timeIntervalSince1970), .text(change.section), .text(change.key),
                     change.old.map { .text($0) } ?? .null, change.new.map { .text($0) } ?? .null])
            }
            _ = try await connection.query(
                "DELETE FROM inventory_log WHERE id <= (SELECT MAX(id) FROM inventory_log) - ?", [.integer(Self.maxLocalChanges)])
            _ = try await connection.query("COMMIT")
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }

    /// The change log, newest first.
    public func localChanges(limit: Int = 100) async throws -> [LocalChange] {
        try await connection.query(
            "SELECT at, section, key, old, new FROM inventory_log ORDER BY id DESC LIMIT ?", [.integer(limit)]
        ).map { row in
            LocalChange(
                at: Date(timeIntervalSince1970: row.column("at")?.double ?? 0), section: row.column("section")?.string ?? "",
                key: row.column("key")?.string ?? "", old: row.column("old")?.string, new: row.column("new")?.string)
        }
    }
}
