import FluentKit
import Foundation
import PiggybackProtocol
import SQLKit
import Synchronization

/// Each device's current inventory, per item, and its history.
///
/// A delta writes only the rows it changes (plus one history row per change), so ingest
/// costs O(changed items), not O(inventory). A delta whose base is not the version held
/// is not applied: the device's version is reset so its next session sends everything.
///
/// Writes go through SQLKit, not Fluent models: encoding ~1 600 models per full inventory
/// cost about 280 ms a terminal. Rows are inserted many per statement and deleted by id
/// list, at most `batchRows` per statement, so no upload, however large, exceeds
/// PostgreSQL's 65 535 bind parameters (a history row takes 8).
struct InventoryStore: Sendable {
    let store: ServerStore

    /// The marker key of a section the terminal could not collect.
    static let failedKey = "_failed"
    /// Most rows (or ids, or keys) one statement carries: 8 000 binds for history rows.
    static let batchRows = 1000

    static let items = "inventory_items"
    static let changes = "inventory_changes"

    /// Applies an upload; returns false when it was refused (wrong base).
    func apply(_ inventory: WireInventory, to device: DeviceRecord) async throws -> Bool {
        try await write(inventory, to: device) != nil
    }

    /// Applies an upload in one transaction and counts the rows it wrote; nil when it was
    /// refused (a delta against a version the server does not hold).
    func write(_ inventory: WireInventory, to device: DeviceRecord) async throws -> InventoryWrites? {
        let deviceID = try device.requireID()
        if !inventory.full {
            guard inventory.baseVersion == UInt64(max(0, device.inventoryVersion)) else { return nil }
            if inventory.sections.isEmpty { return InventoryWrites() }
        }
        let version = Int64(clamping: inventory.version)
        return try await store.db.transaction { db in
            guard let sql = db as? any SQLDatabase else {
                throw ServerError(.storage, "the inventory needs an SQL database (SQLite or PostgreSQL)")
            }
            var plan = InventoryPlan()
            try await Self.read(inventory, deviceID: deviceID, on: sql, into: &plan)
            plan.apply(inventory)
            return try await Self.write(plan, deviceID: deviceID, version: version, at: Date(), on: sql)
        }
    }

    /// Reads what the upload can change. A full upload reads the sections it replaces; a
    /// delta only the keys it names, so a one-package delta reads one or two rows.
    static func read(_ inventory: WireInventory, deviceID: String, on sql: any SQLDatabase, into plan: inout InventoryPlan) async throws {
        func fetch(_ filter: (SQLSelectBuilder) -> SQLSelectBuilder) async throws {
            let select = sql.select().columns("id", "section", "key", "value").from(items).where("device_id", .equal, deviceID)
            for row in try await filter(select).all() {
                try plan.held(
                    section: row.decode(column: "section", as: String.self), key: row.decode(column: "key", as: String.self),
                    id: row.decode(column: "id", as: UUID.self), value: row.decode(column: "value", as: String.self)
                )
            }
        }
        if inventory.full {
            let names = Array(Set(inventory.sections.map(\.name)))
            for batch in names.batches(of: batchRows) { try await fetch { $0.where("section", .in, Array(batch)) } }
            return
        }
        var keys: [String: Set<String>] = [:]
        for section in inventory.sections {
            keys[section.name, default: [failedKey]].formUnion(section.items.map(\.key) + section.removed)
        }
        for (section, names) in keys {
            for batch in Array(names).batches(of: batchRows) {
                try await fetch { $0.where("section", .equal, section).where("key", .in, Array(batch)) }
            }
        }
    }

    /// Writes a plan: deletes, updates, inserts, then history, each in statements of at most
    /// `batchRows` rows.
    static func write(_ plan: InventoryPlan, deviceID: String, version: Int64, at now: Date, on sql: any SQLDatabase) async throws -> InventoryWrites {
        let (inserts, updates, deletes) = plan.rowChanges()
        for batch in deletes.batches(of: batchRows) {
            try await sql.delete(from: items).where("id", .in, Array(batch)).run()
        }
        for batch in updates.batches(of: batchRows) {
            // One statement for many rows: SET value = CASE id WHEN ? THEN ? … END WHERE id IN (…).
            var cases: [any SQLExpression] = [SQLRaw("CASE"), SQLIdentifier("id")]
            for update in batch { cases += [SQLRaw("WHEN"), SQLBind(update.id), SQLRaw("THEN"), SQLBind(update.value)] }
            cases.append(SQLRaw("END"))
            try await sql.update(items).set("value", to: SQLList(cases, separator: SQLRaw(" ")) as any SQLExpression)
                .where("id", .in, batch.map(\.id)).run()
        }
        for batch in inserts.batches(of: batchRows) {
            try await sql.insert(into: items).columns("id", "device_id", "section", "key", "value").rows(batch.map { row -> [any SQLExpression] in
                [SQLBind(RowID.next()), SQLBind(deviceID), SQLBind(row.section), SQLBind(row.key), SQLBind(row.value)]
            }).run()
        }
        func optional(_ value: String?) -> any SQLExpression { value.map { SQLBind($0) } ?? SQLLiteral.null }
        for batch in plan.changes.batches(of: batchRows) {
            try await sql.insert(into: changes)
                .columns("id", "device_id", "version", "section", "key", "old_value", "new_value", "changed_at")
                .rows(batch.map { change -> [any SQLExpression] in
                    [SQLBind(RowID.next()), SQLBind(deviceID), SQLBind(version), SQLBind(change.section), SQLBind(change.key),
                     optional(change.old), optional(change.new), SQLBind(now)]
                }).run()
        }
        return InventoryWrites(inserted: inserts.count, updated: updates.count, deleted: deletes.count, history: plan.changes.count)
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

/// The rows of one device an upload can touch, as read, and what the upload makes of them.
///
/// Pure: `apply` follows the upload item by item (recording history as it goes), and
/// `rowChanges` reduces the result to the net rows to insert, update and delete, so a key
/// named twice never collides with the unique index.
struct InventoryPlan: Sendable {
    /// One item: its row id when it is stored, its value as read, its value now (nil: removed).
    struct Item: Sendable {
        var id: UUID?
        var read: String?
        var value: String?
    }

    /// One history row: what the item was and what it became.
    struct Change: Sendable {
        var section: String
        var key: String
        var old: String?
        var new: String?
    }

    /// section → key → item.
    private(set) var items: [String: [String: Item]] = [:]
    private(set) var changes: [Change] = []

    /// Records a stored row.
    mutating func held(section: String, key: String, id: UUID, value: String) {
        items[section, default: [:]][key] = Item(id: id, read: value, value: value)
    }

    /// Follows the upload: failed sections keep their items and get a `_failed` marker;
    /// full uploads remove the items of the sections they carry that they do not name.
    mutating func apply(_ inventory: WireInventory) {
        for section in inventory.sections {
            let name = section.name
            if !section.failed.isEmpty {
                set(name, InventoryStore.failedKey, section.failed)  // old items stay: nothing better is known
                continue
            }
            remove(name, InventoryStore.failedKey)
            if inventory.full {
                let keep = Set(section.items.map(\.key))
                for key in (items[name] ?? [:]).keys.sorted() where !keep.contains(key) && key != InventoryStore.failedKey {
                    remove(name, key)
                }
            }
            for item in section.items { set(name, item.key, item.value) }
            for key in section.removed { remove(name, key) }
        }
    }

    mutating func set(_ section: String, _ key: String, _ value: String) {
        let old = items[section]?[key]?.value
        guard old != value else { return }
        changes.append(Change(section: section, key: key, old: old, new: value))
        items[section, default: [:]][key, default: Item()].value = value
    }

    mutating func remove(_ section: String, _ key: String) {
        guard let old = items[section]?[key]?.value else { return }
        changes.append(Change(section: section, key: key, old: old, new: nil))
        items[section]?[key]?.value = nil
    }

    /// The net effect on `inventory_items`; inserts sorted by section and key, the unique
    /// index's order.
    func rowChanges() -> (inserts: [(section: String, key: String, value: String)], updates: [(id: UUID, value: String)], deletes: [UUID]) {
        var inserts: [(section: String, key: String, value: String)] = []
        var updates: [(id: UUID, value: String)] = []
        var deletes: [UUID] = []
        for (section, keys) in items {
            for (key, item) in keys {
                switch (item.id, item.value) {
                case let (id?, nil): deletes.append(id)
                case let (id?, value?) where value != item.read: updates.append((id, value))
                case let (nil, value?): inserts.append((section, key, value))
                default: break
                }
            }
        }
        inserts.sort { ($0.section, $0.key) < ($1.section, $1.key) }
        return (inserts, updates, deletes)
    }
}

/// Row ids that grow with time (UUID version 7, RFC 9562, with a 42-bit counter within a
/// millisecond), so inserts append to the primary-key index: with random ids each inserted
/// row dirtied its own index page, and full-inventory ingest slowed down with the table's
/// size (SQLite: from 39 to 221 ms per terminal over the first 200 terminals).
enum RowID {
    private static let state = Mutex((millisecond: UInt64(0), counter: UInt64(0)))

    /// The next id: later than every id this process made before.
    static func next() -> UUID {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let (ms, counter) = state.withLock { state in
            if now > state.millisecond {
                state = (now, UInt64.random(in: 0..<(1 << 41)))  // random start, top bit clear: room to count
            } else {
                state.counter += 1
                if state.counter >= 1 << 42 { state = (state.millisecond + 1, 0) }
            }
            return state
        }
        let random = UInt32.random(in: .min ... .max)
        func byte(_ value: UInt64, _ shift: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: value >> shift) }
        // 48-bit ms | version 7 | counter bits 41–30 | variant 10 | counter bits 29–0 | 32 random bits
        return UUID(uuid: (
            byte(ms, 40), byte(ms, 32), byte(ms, 24), byte(ms, 16), byte(ms, 8), byte(ms, 0),
            0x70 | (byte(counter, 38) & 0x0F), byte(counter, 30), 0x80 | (byte(counter, 24) & 0x3F),
            byte(counter, 16), byte(counter, 8), byte(counter, 0),
            byte(UInt64(random), 24), byte(UInt64(random), 16), byte(UInt64(random), 8), byte(UInt64(random), 0)
        ))
    }
}

fileprivate extension Array {
    /// Consecutive slices of at most `size` elements.
    func batches(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
