import Foundation
import Logging
@testable import PiggybackServer
import PiggybackProtocol
import Testing

/// The inventory write path on a real database: batching beyond one statement, rows
/// written per delta, and the semantics of failed sections, removals and history.
@Suite struct InventoryStoreTests {
    static var postgresURL: String? { ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] }

    @Test func sqliteBatchesLargeUploadsAndDeltasWriteTwoRows() async throws {
        try await batchesAndDeltas(on: "sqlite")
    }

    @Test(.enabled(if: InventoryStoreTests.postgresURL != nil, "needs PIGGYBACK_TEST_POSTGRES_URL"))
    func postgresBatchesLargeUploadsAndDeltasWriteTwoRows() async throws {
        try await onScratchPostgres { try await batchesAndDeltas(on: $0) }
    }

    @Test func sqliteKeepsFailedSectionsAndRecordsHistory() async throws {
        try await semantics(on: "sqlite")
    }

    @Test(.enabled(if: InventoryStoreTests.postgresURL != nil, "needs PIGGYBACK_TEST_POSTGRES_URL"))
    func postgresKeepsFailedSectionsAndRecordsHistory() async throws {
        try await onScratchPostgres { try await semantics(on: $0) }
    }

    /// Ids are UUID version 7 and strictly increasing, also as text (SQLite stores them so).
    @Test func inventoryRowIDsGrowWithTime() {
        let ids = (0..<10_000).map { _ in RowID.next().uuidString }
        #expect(ids == ids.sorted())
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { Array($0)[14] == "7" && "89AB".contains(Array($0)[19]) })
    }

    /// 20 000 items: more than one statement for inserts, history, updates and deletes.
    func batchesAndDeltas(on database: String) async throws {
        try await withIngest(database) { ingest, device in
            let items = (0..<20_000).map { (String(format: "pkg%05d", $0), "1.0-\($0) amd64 100") }
            let first = try await ingest.apply(upload(version: 1, full: true, [section("software", items)]), deviceID: device)
            #expect(first == InventoryWrites(inserted: 20_000, history: 20_000))
            #expect(try await ingest.rowCounts() == (20_000, 20_000))

            // 1 500 changed, 1 500 gone, 1 500 new: every kind of statement runs twice.
            var next = items.dropFirst(1500).map { $0 }
            for index in 0..<1500 { next[index].1 = "2.0 amd64 100" }
            next += (0..<1500).map { (String(format: "new%05d", $0), "1.0 amd64 100") }
            let second = try await ingest.apply(upload(version: 2, full: true, [section("software", next)]), deviceID: device)
            #expect(second == InventoryWrites(inserted: 1500, updated: 1500, deleted: 1500, history: 4500))
            let current = try await ingest.inventory.current(deviceID: device)["software"] ?? [:]
            #expect(current.count == 20_000)
            #expect(current == Dictionary(uniqueKeysWithValues: next))

            let counts = try await ingest.rowCounts()
            let delta = try await ingest.apply(upload(version: 3, base: 2, [section("software", [("pkg01500", "3.0 amd64 100")])]), deviceID: device)
            #expect(delta == InventoryWrites(updated: 1, history: 1))
            #expect(delta?.rows == 2)
            #expect(try await ingest.rowCounts() == (counts.items, counts.changes + 1))
            #expect(try await ingest.inventory.current(deviceID: device)["software"]?["pkg01500"] == "3.0 amd64 100")
        }
    }

    func semantics(on database: String) async throws {
        try await withIngest(database) { ingest, device in
            let store = ingest.inventory
            try await ingest.apply(upload(version: 1, full: true, [
                section("os", [("id", "debian")]), section("software", [("curl", "7"), ("wget", "1")]),
            ]), deviceID: device)
            // A failed section keeps its items and gains a marker; a wrong base is refused.
            var failed = section("software", [])
            failed.failed = "dpkg status unreadable"
            try await ingest.apply(upload(version: 2, full: true, [section("os", [("id", "debian")]), failed]), deviceID: device)
            #expect(try await store.current(deviceID: device)["software"] == ["curl": "7", "wget": "1", "_failed": "dpkg status unreadable"])
            #expect(try await ingest.apply(upload(version: 9, base: 7, [section("os", [("id", "x")])]), deviceID: device) == nil)

            // The next full upload clears the marker and removes what it no longer names,
            // in the sections it carries only.
            try await ingest.apply(upload(version: 3, full: true, [section("software", [("curl", "8")])]), deviceID: device)
            #expect(try await store.current(deviceID: device) == ["os": ["id": "debian"], "software": ["curl": "8"]])

            var removal = section("software", [("openssl", "3")])
            removal.removed = ["curl", "absent"]
            let writes = try await ingest.apply(upload(version: 4, base: 3, [removal]), deviceID: device)
            #expect(writes == InventoryWrites(inserted: 1, deleted: 1, history: 2))
            #expect(try await store.current(deviceID: device)["software"] == ["openssl": "3"])

            let history = try await store.history(deviceID: device, limit: 100)
            let changes = Set(history.map { "\($0.version) \($0.section).\($0.key) \($0.oldValue ?? "∅")→\($0.newValue ?? "∅")" })
            #expect(changes == [
                "1 os.id ∅→debian", "1 software.curl ∅→7", "1 software.wget ∅→1",
                "2 software._failed ∅→dpkg status unreadable",
                "3 software._failed dpkg status unreadable→∅", "3 software.wget 1→∅", "3 software.curl 7→8",
                "4 software.openssl ∅→3", "4 software.curl 8→∅",
            ])
        }
    }

    // MARK: helpers

    func withIngest(_ database: String, _ body: (InventoryIngest, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-inv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await ServerStore.open(database: database, dataDirectory: directory, logger: Logger(label: "test"))
        let ingest = InventoryIngest(store: store)
        let device = UUID().uuidString.lowercased()
        try await ingest.register(deviceID: device)
        do {
            try await body(ingest, device)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    func section(_ name: String, _ items: [(String, String)]) -> WireInventorySection {
        var section = WireInventorySection()
        section.name = name
        section.items = items.map { key, value in
            var item = WireInventoryItem()
            item.key = key
            item.value = value
            return item
        }
        return section
    }

    func upload(version: UInt64, full: Bool = false, base: UInt64 = 0, _ sections: [WireInventorySection]) -> WireInventory {
        var upload = WireInventory()
        upload.version = version
        upload.full = full
        upload.baseVersion = base
        upload.sections = sections
        return upload
    }

    /// Runs `body` on a fresh database on the test PostgreSQL, dropped afterwards.
    func onScratchPostgres(_ body: (String) async throws -> Void) async throws {
        try await ScratchPostgres.run(prefix: "pb_inv", body)
    }
}
