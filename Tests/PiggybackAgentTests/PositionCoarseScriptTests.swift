import Foundation
import Logging
@testable import PiggybackAgent
import PiggybackTestSupport
import Testing

/// The coarse-position script hook, with real shell scripts.
@Suite struct PositionCoarseScriptTests {
    let logger = Logger(label: "test.position.script")

    /// Writes an executable shell script into a fresh directory; returns it and the directory.
    static func script(_ body: String) throws -> (URL, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-pos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("position.sh")
        try writeExecutable("#!/bin/sh\n\(body)\n", to: url.path)
        return (url, directory)
    }

    @Test func parsesLatLonAccuracy() throws {
        let fix = try CoarsePositionScript.parse("  48.1173, 11.5167 ,5000\n")
        #expect(fix.lat == 48.1173 && fix.lon == 11.5167 && fix.accuracyMeters == 5000 && fix.source == .coarse)
        #expect(try CoarsePositionScript.parse("\n\n-33.9,151.2,1500\nignored").lat == -33.9)
        for bad in ["", "48.1,11.5", "48.1,11.5,5000,1", "a,b,c", "91,0,1000", "0,0,-5", "0,0,nan", "0,0,inf", "48.1;11.5;5000"] {
            #expect(throws: PositionError.self, "\(bad)") { try CoarsePositionScript.parse(bad) }
        }
    }

    @Test func aScriptAnswerBecomesACoarseFix() async throws {
        let (url, directory) = try Self.script("echo 'cell lookup' >&2\necho 52.52,13.405,3000")
        defer { try? FileManager.default.removeItem(at: directory) }
        let provider = try PositionProvider(
            configuration: PositionConfiguration(coarseScript: .init(executable: url)),
            logger: logger
        )
        let fix = try #require(await provider.best())
        #expect(fix.source == .coarse && fix.lat == 52.52 && fix.lon == 13.405 && fix.accuracyMeters == 3000)
        #expect(provider.configuration.coarseScript?.executable == url)
    }

    @Test func theScriptRunsOncePerRefreshInterval() async throws {
        let (url, directory) = try Self.script("echo run >> \"$(dirname \"$0\")/runs\"\necho 1,2,1000")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = CoarsePositionSource(script: .init(executable: url, refreshInterval: .seconds(60)), maxAge: .seconds(600), logger: logger)
        for _ in 0..<3 { #expect(await source.currentFix()?.accuracyMeters == 1000) }
        let runs = try String(contentsOf: directory.appendingPathComponent("runs"), encoding: .utf8)
        #expect(runs.split(separator: "\n").count == 1)
    }

    @Test func aHangingScriptIsKilledAtItsTimeout() async throws {
        // The background sleep keeps stdout open after the script itself is killed.
        let (url, directory) = try Self.script("sleep 90 &\nsleep 90\necho 1,2,3")
        defer { try? FileManager.default.removeItem(at: directory) }
        let started = ContinuousClock.now
        await #expect(throws: PositionError.self) {
            try await CoarsePositionScript(.init(executable: url, timeout: .milliseconds(500))).run()
        }
        #expect(started.duration(to: .now) < .seconds(30))
    }

    @Test func failuresGiveNoPositionAndAReason() async throws {
        let (failing, directory) = try Self.script("echo 1,2,3\nexit 3")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try await CoarsePositionScript(.init(executable: failing)).run()
            Issue.record("a failing script gave a position")
        } catch {
            #expect(error.message.contains("status 3"))
        }
        let missing = URL(fileURLWithPath: "/nonexistent/pb-position-script")
        await #expect(throws: PositionError.self) { try await CoarsePositionScript(.init(executable: missing)).run() }
        let (chatty, other) = try Self.script("yes 1,2,3 2>/dev/null | head -c 100000")
        defer { try? FileManager.default.removeItem(at: other) }
        // Output beyond the limit is ignored; the first line still counts.
        let fix = try await CoarsePositionScript(.init(executable: chatty, timeout: .seconds(5))).run()
        #expect(fix.accuracyMeters == 3)
        let source = CoarsePositionSource(script: .init(executable: missing), maxAge: .seconds(60), logger: logger)
        #expect(await source.currentFix() == nil)
    }
}
