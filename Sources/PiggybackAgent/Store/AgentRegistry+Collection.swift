import Foundation
import SQLiteNIO

/// Collection state: cursors of growing sources and what `since-last` orders already sent.
extension AgentRegistry {
    func migrateCollection() async throws {
        for statement in [
            """
            CREATE TABLE IF NOT EXISTS log_cursors (
              order_id TEXT NOT NULL, source TEXT NOT NULL, device INTEGER NOT NULL, inode INTEGER NOT NULL,
              offset INTEGER NOT NULL, stream_base INTEGER NOT NULL, fingerprint TEXT NOT NULL,
              journal_cursor TEXT NOT NULL, pending_end INTEGER NOT NULL, updated_at REAL NOT NULL,
              PRIMARY KEY (order_id, source))
            """,
            """
            CREATE TABLE IF NOT EXISTS collected_files (
              order_id TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
              inode INTEGER NOT NULL, sha256 TEXT NOT NULL, stored_at REAL NOT NULL,
              PRIMARY KEY (order_id, path))
            """,
        ] {
            _ = try await connection.query(statement)
        }
    }

    /// The cursor of `source` for `orderID`, or a fresh one (nothing collected yet).
    public func logCursor(orderID: String, source: String) async throws -> LogCursor {
        let rows = try await connection.query(
            "SELECT * FROM log_cursors WHERE order_id = ? AND source = ?", [.text(orderID), .text(source)])
        var cursor = LogCursor(orderID: orderID, source: source)
        guard let row = rows.first else { return cursor }
        cursor.device = UInt64(bitPattern: Int64(row.column("device")?.integer ?? 0))
        cursor.inode = UInt64(bitPattern: Int64(row.column("inode")?.integer ?? 0))
        cursor.offset = UInt64(max(0, row.column("offset")?.integer ?? 0))
        cursor.streamBase = UInt64(max(0, row.column("stream_base")?.integer ?? 0))
        cursor.fingerprint = row.column("fingerprint")?.string ?? ""
        cursor.journalCursor = row.column("journal_cursor")?.string ?? ""
        cursor.pendingEnd = UInt64(max(0, row.column("pending_end")?.integer ?? 0))
        return cursor
    }

    /// Saves a cursor (after the server stored a segment, or when a segment is announced).
    public func saveLogCursor(_ cursor: LogCursor) async throws {
        _ = try await connection.query(
            """
            INSERT OR REPLACE INTO log_cursors
              (order_id, source, device, inode, offset, stream_base, fingerprint, journal_cursor, pending_end, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(cursor.orderID), .text(cursor.source), .integer(Int(Int64(bitPattern: cursor.device))),
             .integer(Int(Int64(bitPattern: cursor.inode))), .integer(Int(cursor.offset)), .integer(Int(cursor.streamBase)),
             .text(cursor.fingerprint), .text(cursor.journalCursor), .integer(Int(cursor.pendingEnd)),
             .float(Date().timeIntervalSince1970)]
        )
    }

    /// What a file looked like when the server last stored it for `orderID`: if its size,
    /// mtime and inode are unchanged, a `since-last` order need not even read it again.
    public func collectedDigest(orderID: String, path: String, size: UInt64, mtimeNanoseconds: Int64, inode: UInt64) async throws -> String? {
        let rows = try await connection.query(
            "SELECT sha256 FROM collected_files WHERE order_id = ? AND path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
            [.text(orderID), .text(path), .integer(Int(size)), .integer(Int(mtimeNanoseconds)), .integer(Int(Int64(bitPattern: inode)))])
        return rows.first?.column("sha256")?.string
    }

    /// Remembers a file the server stored for `orderID`.
    public func recordCollected(orderID: String, path: String, size: UInt64, mtimeNanoseconds: Int64, inode: UInt64, sha256: String) async throws {
        _ = try await connection.query(
            "INSERT OR REPLACE INTO collected_files (order_id, path, size, mtime_ns, inode, sha256, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(orderID), .text(path), .integer(Int(size)), .integer(Int(mtimeNanoseconds)), .integer(Int(Int64(bitPattern: inode))),
             .text(sha256), .float(Date().timeIntervalSince1970)])
    }
}
