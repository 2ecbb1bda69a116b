import Crypto
import FluentKit
import Foundation
import PiggybackProtocol
import SQLKit

/// What one upload wrote to the inventory tables, so benchmarks and tests can check that a
/// delta costs O(changed items) rather than O(inventory).
public struct InventoryWrites: Sendable, Equatable {
    /// Item rows inserted (new keys).
    public var inserted = 0
    /// Item rows whose value changed.
    public var updated = 0
    /// Item rows deleted (removed keys).
    public var deleted = 0
    /// History rows inserted: one per change, whatever its kind.
    public var history = 0

    /// Every row written.
    public var rows: Int { inserted + updated + deleted + history }

    /// Counts of each kind (all zero: nothing written).
    public init(inserted: Int = 0, updated: Int = 0, deleted: Int = 0, history: Int = 0) {
        self.inserted = inserted
        self.updated = updated
        self.deleted = deleted
        self.history = history
    }
}

/// The inventory ingest path sessions use, exposed for benchmarks and bulk tools: register
/// a device, apply uploads to it, count what the database holds.
public struct InventoryIngest: Sendable {
    let store: ServerStore
    let inventory: InventoryStore

    /// Uses `store` (already opened and migrated).
    public init(store: ServerStore) {
        self.store = store
        self.inventory = InventoryStore(store: store)
    }

    /// Registers a device (accepted) with the public half of a key whose private half is
    /// thrown away: nobody can authenticate as it.
    public func register(deviceID: String) async throws {
        let key = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation
        try await DeviceRecord(id: deviceID, publicKey: key, hostname: deviceID, state: .accepted).create(on: store.db)
    }

    /// Applies one upload exactly as a session's 30 does (then records its version on the
    /// device, as the session does); the inventory rows it wrote, nil when the base was wrong.
    @discardableResult
    public func apply(_ upload: WireInventory, deviceID: String) async throws -> InventoryWrites? {
        guard let device = try await DeviceRecord.find(deviceID, on: store.db) else {
            throw ServerError(.notFound, "no device \(deviceID)")
        }
        guard let writes = try await inventory.write(try upload.unpacked(), to: device) else { return nil }
        device.inventoryVersion = Int64(clamping: upload.version)
        try await device.save(on: store.db)
        return writes
    }

    /// Rows in the current-inventory and history tables.
    public func rowCounts() async throws -> (items: Int, changes: Int) {
        (try await InventoryItemRecord.query(on: store.db).count(), try await InventoryChangeRecord.query(on: store.db).count())
    }

    /// The database's size in bytes as the backend reports it (SQLite: pages in use,
    /// including those still in the WAL; PostgreSQL: `pg_database_size`), to size a fleet.
    public func databaseBytes() async throws -> Int64 {
        guard let sql = store.db as? any SQLDatabase else {
            throw ServerError(.storage, "the database is not an SQL database")
        }
        let query = store.backend == "sqlite"
            ? "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()"
            : "SELECT pg_database_size(current_database()) AS bytes"
        guard let row = try await sql.raw(SQLQueryString(query)).first() else {
            throw ServerError(.storage, "the database did not report its size")
        }
        return try row.decode(column: "bytes", as: Int64.self)
    }
}
