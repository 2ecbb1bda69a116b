import Foundation
import PiggybackTestSupport
import Testing

/// Issue 7's measurement in its short form: the namespace network with its shaped bottleneck,
/// the foreground workloads and every background candidate (none, plain bulk, a static cap,
/// our agent with and without its controller) run once, end to end, with the binaries built
/// next to the tests. It checks that the harness and the agent's throttle work together, not
/// the goals (those are figures: docs/BENCHMARKS.md).
///
/// It runs alone, after the rest of the suite (`Scripts/test` sets PIGGYBACK_LOAD_HARNESS=1
/// for a second `swift test --filter LoadHarnessTests`): minutes of a saturated, shaped
/// network beside a parallel test run would make wall-clock-bounded tests flaky.
@Suite(.serialized) struct LoadHarnessTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PIGGYBACK_LOAD_HARNESS"] == "1",
                   "runs alone after the suite: Scripts/test"),
          .timeLimit(.minutes(10)))
    func shortRunOfEveryCandidate() throws {
        guard getuid() == 0 else { throw TestFailure("the load harness needs root for network namespaces and tc") }
        let binary = try #require(DiscoveryLab.serverBinary, "the piggyback executable is not built next to the tests")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = repository.appendingPathComponent("Benchmarks/load/load_bench.py")
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("pb-load-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: report) }
        let result = try runCommand("/usr/bin/env", [
            "python3", script.path, "--bin", URL(fileURLWithPath: binary).deletingLastPathComponent().path,
            "--short", "--no-install", "--json", report.path,
        ])
        let text = result.output
        print(text.split(separator: "\n").suffix(30).joined(separator: "\n"))
        #expect(result.status == 0, "load_bench.py --short exited with \(result.status)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
        #expect(json != nil, "the harness wrote its JSON report")
        #expect(text.contains("throttle trace:"), "the adaptive agent's throttle reported its rate in its trace")
    }
}
