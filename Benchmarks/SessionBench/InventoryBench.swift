import ArgumentParser
import Foundation
import PiggybackAgent
import PiggybackProtocol

/// Full inventory collection: wall time, peak memory and size on the wire, side by side with
/// FusionInventory's `fusioninventory-inventory` on the same machine in the same run.
struct InventoryBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Measure a full inventory collection against fusioninventory-inventory (if installed)."
    )

    @Option(help: "Repetitions of each candidate.") var runs = 10

    func run() async throws {
        let clock = ContinuousClock()
        var ours: [Double] = []
        var sections: [WireInventorySection] = []
        for _ in 0..<runs {
            let start = clock.now
            sections = InventoryCollector().collect()
            ours.append(SessionBench.milliseconds(clock.now - start))
        }
        let peak = Self.peakRSSKiB()
        let perSection = InventoryCollector().timings().map { "\($0.section) \(SessionBench.format($0.milliseconds))" }
        var inventory = WireInventory()
        inventory.full = true
        inventory.version = 1
        inventory.sections = sections
        let frame = try TelexCodec().encode(.inventory(inventory))
        let gzipped = try Self.gzipSize(Data(frame))
        // What the agent actually sends: the packed encoding (columns + Brotli).
        let packStart = clock.now
        inventory.setSections(sections)
        let packMilliseconds = SessionBench.milliseconds(clock.now - packStart)
        let wire = try TelexCodec().encode(.inventory(inventory))
        let packages = sections.first { $0.name == "software" }?.items.count ?? 0

        print("""
            ## Full inventory collection (\(packages) dpkg packages), \(runs) runs

            | candidate | median ms | peak RSS | output | gzip -9 | on the wire |
            |---|---|---|---|---|---|
            | Piggyback `InventoryCollector` (in-process) | \(SessionBench.format(SessionBench.median(ours))) | \(peak / 1024) MiB (whole bench process) | \(frame.count) B (telex 30, plain protobuf) | \(gzipped) B | \(wire.count) B (telex 30, packed; packing took \(SessionBench.format(packMilliseconds)) ms) |
            """)
        print("\nper section (ms, one run): \(perSection.joined(separator: ", "))\n")
        if let fusion = try Self.fusion(runs: runs) {
            print("| `fusioninventory-inventory` | \(SessionBench.format(fusion.median)) | \(fusion.rssKiB.map { "\($0 / 1024) MiB" } ?? "?") | \(fusion.bytes) B (XML) | \(fusion.gzipped) B | \(fusion.gzipped) B (compressed, as its agent posts it) |")
            print("\nratio FusionInventory / Piggyback (median wall time): \(SessionBench.format(fusion.median / SessionBench.median(ours)))")
        } else {
            print("| `fusioninventory-inventory` | not installed (`apt-get install fusioninventory-agent`) | | | |")
        }
    }

    static func peakRSSKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
    }

    static func gzipSize(_ data: Data) throws -> Int {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pb-gz-\(UUID().uuidString)")
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = try run("/bin/gzip", ["-9", "-c", file.path]).output
        return output.count
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> (output: Data, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (data, process.terminationStatus)
    }

    /// Runs FusionInventory's local inventory `runs` times; nil when it is not installed.
    static func fusion(runs: Int) throws -> (median: Double, rssKiB: Int?, bytes: Int, gzipped: Int)? {
        let tool = "/usr/bin/fusioninventory-inventory"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let clock = ContinuousClock()
        var times: [Double] = []
        var output = Data()
        for _ in 0..<runs {
            let start = clock.now
            output = try run(tool, []).output
            times.append(SessionBench.milliseconds(clock.now - start))
        }
        var rss: Int?
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/time") {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
            process.arguments = ["-f", "%M", tool]
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            rss = text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        return (SessionBench.median(times), rss, output.count, try gzipSize(output))
    }
}
