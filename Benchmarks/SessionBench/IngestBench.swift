import ArgumentParser
import Foundation
import Logging
import PiggybackAgent
import PiggybackProtocol
import PiggybackServer

/// Server-side inventory ingest: full inventories for many simulated terminals, then a
/// one-package delta for each; time per terminal, rows written per upload, database size.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure server inventory ingest: N full inventories, then N one-package deltas."
    )

    @Option(help: "Simulated terminals.") var terminals = 1000
    @Option(help: "`sqlite` (a fresh file in a temporary directory) or `postgres` (or a postgres:// URL).") var database = "sqlite"
    @Option(help: "PostgreSQL URL for --database postgres; default $PIGGYBACK_TEST_POSTGRES_URL. Use an empty database: the run's rows stay.")
    var postgresURL: String?

    /// Per-upload wall times and rows written in one phase.
    struct Phase {
        var times: [Double] = []
        var writes: [InventoryWrites] = []
        var total: Double = 0
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-ingest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try databaseURL()
        let store = try await ServerStore.open(database: url, dataDirectory: directory, logger: logger)
        let ingest = InventoryIngest(store: store)
        // This machine's real inventory is the template every simulated terminal reports.
        let sections = InventoryCollector().collect()
        let items = sections.reduce(0) { $0 + $1.items.count }
        let ids = (0..<terminals).map { _ in UUID().uuidString.lowercased() }
        let before = try await ingest.rowCounts()
        for id in ids { try await ingest.register(deviceID: id) }

        var full = WireInventory()
        full.full = true
        full.version = 1
        full.sections = sections
        let fullPhase = try await measure("full", ids) { try await ingest.apply(full, deviceID: $0) }
        let afterFull = try await ingest.rowCounts()
        let bytesAfterFull = try await ingest.databaseBytes()

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
        let deltaPhase = try await measure("delta", ids) { try await ingest.apply(delta, deviceID: $0) }
        let afterDelta = try await ingest.rowCounts()
        let bytesAfterDelta = try await ingest.databaseBytes()
        await store.close()

        let backend = store.backend == "sqlite" ? "embedded SQLite" : "PostgreSQL"
        print("""
            ## Server inventory ingest (\(backend)), \(terminals) terminals × \(items) items

            | phase | total s | mean ms/terminal | median | p95 | max | mean, first 10 % | mean, last 10 % | rows written per terminal |
            |---|---|---|---|---|---|---|---|---|
            \(row("full inventory each", fullPhase))
            \(row("one-package delta each", deltaPhase))

            - item rows: \(afterFull.items - before.items) after the full phase, \(afterDelta.items - afterFull.items >= 0 ? "+" : "")\(afterDelta.items - afterFull.items) in the delta phase
            - history rows: \(afterFull.changes - before.changes) after the full phase, +\(afterDelta.changes - afterFull.changes) in the delta phase
            - database size: \(megabytes(bytesAfterFull)) MB after the full phase (\(bytesAfterFull / Int64(max(1, terminals))) B per terminal), \(megabytes(bytesAfterDelta)) MB after the deltas
            """)
    }

    func databaseURL() throws -> String {
        switch database {
        case "sqlite": return "sqlite"
        case "postgres":
            guard let url = postgresURL ?? ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] else {
                throw ValidationError("--database postgres needs --postgres-url or PIGGYBACK_TEST_POSTGRES_URL")
            }
            return url
        default: return database  // a postgres:// URL given directly, as before
        }
    }

    /// Applies `upload` for every terminal in turn, timing each; progress on standard error.
    func measure(_ name: String, _ ids: [String], _ upload: (String) async throws -> InventoryWrites?) async throws -> Phase {
        let clock = ContinuousClock()
        var phase = Phase()
        let step = max(1, ids.count / 10)
        let start = clock.now
        for (index, id) in ids.enumerated() {
            let began = clock.now
            guard let writes = try await upload(id) else { throw ValidationError("\(name) upload refused for \(id)") }
            phase.times.append(SessionBench.milliseconds(clock.now - began))
            phase.writes.append(writes)
            if (index + 1) % step == 0 {
                let recent = phase.times.suffix(step)
                FileHandle.standardError.write(Data("\(name) \(index + 1)/\(ids.count): \(SessionBench.format(recent.reduce(0, +) / Double(recent.count))) ms per terminal\n".utf8))
            }
        }
        phase.total = SessionBench.milliseconds(clock.now - start)
        return phase
    }

    func row(_ label: String, _ phase: Phase) -> String {
        let times = phase.times
        let tenth = max(1, times.count / 10)
        func mean(_ values: ArraySlice<Double>) -> String { SessionBench.format(values.reduce(0, +) / Double(max(1, values.count))) }
        let rows = phase.writes.map(\.rows)
        let kinds = phase.writes.reduce(InventoryWrites()) {
            InventoryWrites(inserted: $0.inserted + $1.inserted, updated: $0.updated + $1.updated, deleted: $0.deleted + $1.deleted, history: $0.history + $1.history)
        }
        let n = max(1, phase.writes.count)
        let written = (rows.min() == rows.max() ? "\(rows.first ?? 0)" : "\(rows.min() ?? 0)–\(rows.max() ?? 0)")
            + " (items +\(kinds.inserted / n) ~\(kinds.updated / n) −\(kinds.deleted / n), history +\(kinds.history / n))"
        return "| \(label) | \(SessionBench.format(phase.total / 1000)) | \(mean(times[...])) | \(SessionBench.format(SessionBench.median(times)))"
            + " | \(SessionBench.format(SessionBench.percentile(times, 0.95))) | \(SessionBench.format(times.max() ?? 0))"
            + " | \(mean(times.prefix(tenth))) | \(mean(times.suffix(tenth))) | \(written) |"
    }

    func megabytes(_ bytes: Int64) -> String { SessionBench.format(Double(bytes) / 1_000_000) }
}
