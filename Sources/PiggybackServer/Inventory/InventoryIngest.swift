import Crypto
import FluentKit
import Foundation
import PiggybackProtocol

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

    /// Applies one upload exactly as a session's 30 does; false when the base was wrong.
    @discardableResult
    public func apply(_ upload: WireInventory, deviceID: String) async throws -> Bool {
        guard let device = try await DeviceRecord.find(deviceID, on: store.db) else {
            throw ServerError(.notFound, "no device \(deviceID)")
        }
        guard try await inventory.apply(try upload.unpacked(), to: device) else { return false }
        device.inventoryVersion = Int64(clamping: upload.version)
        try await device.save(on: store.db)
        return true
    }

    /// Rows in the current-inventory and history tables.
    public func rowCounts() async throws -> (items: Int, changes: Int) {
        (try await InventoryItemRecord.query(on: store.db).count(), try await InventoryChangeRecord.query(on: store.db).count())
    }
}
