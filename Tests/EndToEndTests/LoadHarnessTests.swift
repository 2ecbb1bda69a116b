import Foundation
import Testing

/// Issue 7's measurement in its short form: the namespace network with its shaped bottleneck,
/// the foreground workloads and every background candidate (none, plain bulk, a static cap,
/// our agent with and without its controller) run once, end to end, with the binaries built
/// next to the tests. It checks that the harness and the agent's throttle work together, not
/// the goals (those are figures: docs/BENCHMARKS.md).
@Suite(.serialized) struct LoadHarnessTests {
    @Test(.enabled(if: getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true", "needs root for network namespaces and tc"),
          .timeLimit(.minutes(10)))
    func shortRunOfEveryCandidate() throws {
        guard getuid() == 0 else { throw TestFailure("CI=true but not root: the load harness must run") }
        let binary = try #require(DiscoveryLab.serverBinary, "the piggyback executable is not built next to the tests")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("Benchmarks/load/load_bench.py")
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("pb-load-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--bin", URL(fileURLWithPath: binary).deletingLastPathComponent().path,
                             "--short", "--no-install", "--json", report.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(text.split(separator: "\n").suffix(30).joined(separator: "\n"))
        #expect(process.terminationStatus == 0, "load_bench.py --short exited with \(process.terminationStatus)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
        #expect(json != nil, "the harness wrote its JSON report")
        #expect(text.contains("throttle trace:"), "the adaptive agent's throttle reported its rate in its trace")
    }
}
