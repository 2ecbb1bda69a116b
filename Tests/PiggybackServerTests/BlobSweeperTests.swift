import FluentKit
import Foundation
import Logging
@testable import PiggybackServer
import Testing

/// The blob store's sweep: what nobody references goes after its grace, nothing else does
/// (SQLite, and PostgreSQL when one is given).
@Suite struct BlobSweeperTests {
    /// A store, its blobs and catalogue in a scratch directory.
    struct Fixture {
        let store: ServerStore
        let blobs: BlobStore
        let catalog: Catalog
        let sweeper: BlobSweeper
        let metrics: ServerMetrics

        /// Puts `text` into the blob store and dates the blob `age` seconds back.
        func blob(_ text: String, age: TimeInterval) throws -> String {
            let file = blobs.temporaryURL()
            try Data(text.utf8).write(to: file)
            let digest = try blobs.commit(file: file)
            try Self.date(blobs.url(sha256: digest), age: age)
            return digest
        }

        /// Registers `sha256` as package `name`@1.
        func package(_ name: String, _ sha256: String) async throws -> PackageRecord {
            try await catalog.add(try PackageSpec(AdminJSON.PackageRequest(name: name, version: "1", sha256: sha256)), sha256: sha256)
        }

        static func date(_ url: URL, age: TimeInterval) throws {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-age)], ofItemAtPath: url.path)
        }
    }

    func withFixture(
        database: String = "sqlite", sweep: BlobSweepConfiguration = BlobSweepConfiguration(), _ body: (Fixture) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "test.sweep")
        logger.logLevel = .warning
        let store = try await ServerStore.open(database: database, dataDirectory: directory, logger: logger)
        do {
            let blobs = try BlobStore(root: directory)
            let catalog = Catalog(store: store, blobs: blobs, signer: try PackageSigner.loadOrCreate(in: directory), serverID: "test")
            let metrics = ServerMetrics()
            let sweeper = BlobSweeper(configuration: sweep, blobs: blobs, store: store, metrics: metrics, logger: logger)
            try await body(Fixture(store: store, blobs: blobs, catalog: catalog, sweeper: sweeper, metrics: metrics))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test func onlyOldUnreferencedBlobsAndDeadTemporariesGo() async throws {
        try await withFixture { try await sweeps($0) }
    }

    @Test(.enabled(if: ScratchPostgres.baseURL != nil, "needs PIGGYBACK_TEST_POSTGRES_URL"))
    func postgresOnlyOldUnreferencedBlobsAndDeadTemporariesGo() async throws {
        try await ScratchPostgres.run(prefix: "pb_sweep") { url in try await withFixture(database: url) { try await sweeps($0) } }
    }

    func sweeps(_ fixture: Fixture) async throws {
        let day: TimeInterval = 24 * 3600
        let packaged = try fixture.blob("package content", age: 2 * day)
        _ = try await fixture.package("tool", packaged)
        let collected = try fixture.blob("collected log", age: 2 * day)
        try await CollectedFileRecord(deviceID: "term-1", orderID: UUID(), path: "/var/log/app.log", size: 13, mtime: Date(), sha256: collected)
            .create(on: fixture.store.db)
        let orphan = try fixture.blob("uploaded, never registered", age: 2 * day)
        let fresh = try fixture.blob("uploaded a moment ago", age: 60)
        // Old but uploaded again just now: place() refreshes it, so it stays.
        let reused = try fixture.blob("uploaded twice", age: 2 * day)
        #expect(try fixture.blob("uploaded twice", age: 0) == reused)
        let deadUpload = fixture.blobs.temporaryURL()
        try Data("half an upload".utf8).write(to: deadUpload)
        try Fixture.date(deadUpload, age: 2 * 3600)
        let liveUpload = fixture.blobs.temporaryURL()
        try Data("streaming".utf8).write(to: liveUpload)

        let result = try await fixture.sweeper.sweep()
        #expect(result == BlobSweeper.Result(blobs: 1, bytes: UInt64("uploaded, never registered".utf8.count), temporaries: 1))
        for kept in [packaged, collected, fresh, reused] { #expect(fixture.blobs.contains(sha256: kept)) }
        #expect(!fixture.blobs.contains(sha256: orphan))
        #expect(!FileManager.default.fileExists(atPath: deadUpload.path))
        #expect(FileManager.default.fileExists(atPath: liveUpload.path))
        #expect(try await fixture.sweeper.sweep() == BlobSweeper.Result(), "a second sweep finds nothing")
    }

    @Test func removingAPackageKeepsContentACollectedFileShares() async throws {
        try await withFixture { fixture in
            let shared = try fixture.blob("same bytes on both sides", age: 0)
            let alone = try fixture.blob("only the package", age: 0)
            let first = try await fixture.package("a", shared)
            let second = try await fixture.package("b", alone)
            try await CollectedFileRecord(deviceID: "term-1", orderID: UUID(), path: "/srv/out/a.bin", size: 24, mtime: Date(), sha256: shared)
                .create(on: fixture.store.db)
            try await fixture.catalog.remove(first)
            try await fixture.catalog.remove(second)
            #expect(fixture.blobs.contains(sha256: shared), "a collected file still needs it")
            #expect(!fixture.blobs.contains(sha256: alone))
        }
    }

    @Test func theServiceSweepsOnItsScheduleAndCountsInTheMetrics() async throws {
        let schedule = BlobSweepConfiguration(interval: .seconds(3600), firstDelay: .milliseconds(50))
        try await withFixture(sweep: schedule) { fixture in
            let orphan = try fixture.blob("uploaded, never registered", age: 2 * 24 * 3600)
            let running = Task { try await fixture.sweeper.run() }
            defer { running.cancel() }
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            while fixture.blobs.contains(sha256: orphan), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(!fixture.blobs.contains(sha256: orphan), "the first sweep comes after firstDelay")
            let text = fixture.metrics.render()
            #expect(text.contains("piggyback_blob_sweep_removed_total{kind=\"blob\"} 1"), "\(text)")
            #expect(text.contains("piggyback_blob_sweep_removed_bytes_total \("uploaded, never registered".utf8.count)"), "\(text)")
            running.cancel()
            try await running.value  // cancellation ends the service without an error
        }
    }
}
