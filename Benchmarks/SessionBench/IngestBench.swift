import ArgumentParser
import Foundation
import Logging
import PiggybackAgent
import PiggybackProtocol
import PiggybackServer

/// Server-side inventory ingest: full inventories for many simulated terminals, then a
/// one-package delta for each; time per terminal and rows written per delta.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure server inventory ingest: N full inventories, then N one-package deltas."
    )

    @Option(help: "Simulated terminals.") var terminals = 1000
    @Option(help: "`sqlite` or a postgres:// URL.") var database = "sqlite"

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await ServerStore.open(database: database, dataDirectory: directory, logger: logger)
        let ingest = InventoryIngest(store: store)
        // This machine's real inventory is the template every simulated terminal reports.
        let sections = InventoryCollector().collect()
        let items = sections.reduce(0) { $0 + $1.items.count }
        let ids = (0..<terminals).map { _ in UUID().uuidString.lowercased() }
        for id in ids { try await ingest.register(deviceID: id) }

        let clock = ContinuousClock()
        var full = WireInventory()
        full.full = true
        full.version = 1
        full.sections = sections
        let fullStart = clock.now
        for id in ids { try await ingest.apply(full, deviceID: id) }
        let fullTime = SessionBench.milliseconds(clock.now - fullStart)
        let afterFull = try await ingest.rowCounts()

        var delta = WireInventory()
        delta.version = 2
        delta.baseVersion = 1
        var software = WireInventorySection()
        software.name = "software"
        var upgraded = WireInventoryItem()
        upgraded.key = sections.first { $0.name == "software" }?.items.first?.key ?? "curl"
        upgraded.value = "99.0-1 amd64 100"
        software.items = [upgraded]
        delta.sections = [software]
        let deltaStart = clock.now
        for id in ids { try await ingest.apply(delta, deviceID: id) }
        let deltaTime = SessionBench.milliseconds(clock.now - deltaStart)
        let afterDelta = try await ingest.rowCounts()
        await store.close()

        print("""
            ## Server inventory ingest (\(database == "sqlite" ? "embedded SQLite" : "PostgreSQL")), \(terminals) terminals × \(items) items

            | phase | total s | ms per terminal | item rows | history rows |
            |---|---|---|---|---|
            | full inventory each | \(SessionBench.format(fullTime / 1000)) | \(SessionBench.format(fullTime / Double(terminals))) | \(afterFull.items) | \(afterFull.changes) |
            | one-package delta each | \(SessionBench.format(deltaTime / 1000)) | \(SessionBench.format(deltaTime / Double(terminals))) | +\(afterDelta.items - afterFull.items) (1 updated per terminal) | +\(afterDelta.changes - afterFull.changes) |
            """)
    }
}
