import FluentKit
import Foundation
import PiggybackProtocol

/// Each device's current inventory, per item, and its history.
///
/// A delta writes only the rows it changes (plus one history row per change), so ingest
/// costs O(changed items), not O(inventory). A delta whose base is not the version held
/// is not applied: the device's version is reset so its next session sends everything.
struct InventoryStore: Sendable {
    let store: ServerStore

    /// The marker key of a section the terminal could not collect.
    static let failedKey = "_failed"

    /// Applies an upload; returns false when it was refused (wrong base).
    func apply(_ inventory: WireInventory, to device: DeviceRecord) async throws -> Bool {
        let deviceID = try device.requireID()
        if !inventory.full {
            guard inventory.baseVersion == UInt64(max(0, device.inventoryVersion)) else { return false }
            if inventory.sections.isEmpty { return true }
        }
        let version = Int64(clamping: inventory.version)
        let names = inventory.sections.map(\.name)
        try await store.db.transaction { db in
            // A full upload reads the sections it replaces; a delta only the rows it names,
            // so a one-package delta costs a handful of rows, not the whole section.
            var rows: [InventoryItemRecord] = []
            if inventory.full {
                rows = try await InventoryItemRecord.query(on: db).filter(\.$deviceID == deviceID).filter(\.$section ~~ names).all()
            } else {
                for section in inventory.sections {
                    let keys = section.items.map(\.key) + section.removed + [Self.failedKey]
                    rows += try await InventoryItemRecord.query(on: db).filter(\.$deviceID == deviceID)
                        .filter(\.$section == section.name).filter(\.$key ~~ keys).all()
                }
            }
            var existing: [String: [String: InventoryItemRecord]] = [:]
            for row in rows { existing[row.section, default: [:]][row.key] = row }
            var inserts: [InventoryItemRecord] = []
            var deletes: [UUID] = []
            var changes: [InventoryChangeRecord] = []
            let now = Date()
            func change(_ section: String, _ key: String, _ old: String?, _ new: String?) {
                changes.append(InventoryChangeRecord(deviceID: deviceID, version: version, section: section, key: key, old: old, new: new, at: now))
            }
            func set(_ section: String, _ key: String, _ value: String) async throws {
                if let row = existing[section]?[key] {
                    guard row.value != value else { return }
                    change(section, key, row.value, value)
                    row.value = value
                    try await row.save(on: db)
                } else {
                    change(section, key, nil, value)
                    inserts.append(InventoryItemRecord(deviceID: deviceID, section: section, key: key, value: value))
                }
            }
            func remove(_ section: String, _ key: String) {
                guard let row = existing[section]?[key], let id = row.id else { return }
                change(section, key, row.value, nil)
                deletes.append(id)
            }
            for section in inventory.sections {
                let name = section.name
                if !section.failed.isEmpty {
                    try await set(name, Self.failedKey, section.failed)  // old items stay: nothing better is known
                    continue
                }
                remove(name, Self.failedKey)
                if inventory.full {
                    let keep = Set(section.items.map(\.key))
                    for key in (existing[name] ?? [:]).keys where !keep.contains(key) && key != Self.failedKey { remove(name, key) }
                }
                for item in section.items { try await set(name, item.key, item.value) }
                for key in section.removed { remove(name, key) }
            }
            if !deletes.isEmpty { try await InventoryItemRecord.query(on: db).filter(\.$id ~~ deletes).delete() }
            if !inserts.isEmpty { try await inserts.create(on: db) }
            if !changes.isEmpty { try await changes.create(on: db) }
        }
        return true
    }

    /// A device's current inventory: section → key → value.
    func current(deviceID: String) async throws -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        for row in try await InventoryItemRecord.query(on: store.db).filter(\.$deviceID == deviceID).all() {
            out[row.section, default: [:]][row.key] = row.value
        }
        return out
    }

    /// Every device's current inventory (for fleet queries).
    func all() async throws -> [String: [String: [String: String]]] {
        var out: [String: [String: [String: String]]] = [:]
        for row in try await InventoryItemRecord.query(on: store.db).all() {
            out[row.deviceID, default: [:]][row.section, default: [:]][row.key] = row.value
        }
        return out
    }

    /// The inventory as queries see it: package values reduced to their version (the wire
    /// carries `VERSION ARCH SIZE [SOURCE]`).
    static func queryable(_ inventory: [String: [String: String]]) -> [String: [String: String]] {
        var out = inventory
        for section in ["software", "rpm"] {
            out[section] = out[section]?.mapValues { value in String(value.split(separator: " ", maxSplits: 1).first ?? "") }
        }
        return out
    }

    /// A device's changes, newest first.
    func history(deviceID: String, limit: Int) async throws -> [InventoryChangeRecord] {
        try await InventoryChangeRecord.query(on: store.db).filter(\.$deviceID == deviceID)
            .sort(\.$changedAt, .descending).sort(\.$version, .descending).limit(limit).all()
    }
}
