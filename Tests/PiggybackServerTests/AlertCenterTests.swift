import FluentKit
import Foundation
import Logging
@testable import PiggybackServer
import Testing

/// Rules, alerts and remedies on a real database (SQLite, and PostgreSQL when one is given).
@Suite struct AlertCenterTests {
    static var postgresURL: String? { ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] }

    /// What a test gets: the alert center over a fresh store, a device, and a scratch directory.
    struct Fixture {
        let center: AlertCenter
        let store: ServerStore
        let directory: URL
        let deviceID: String

        /// Writes `lines` to a file and analyses it as collected from the device at `path`.
        func analyze(_ lines: [String], path: String = "/var/log/app.log") async throws -> AlertCenter.Analysis {
            let file = directory.appendingPathComponent("collected-\(UUID().uuidString)")
            try Data(lines.joined(separator: "\n").utf8).write(to: file)
            return try await center.analyze(deviceID: deviceID, path: path, file: file)
        }

        func alerts() async throws -> [AlertRecord] { try await center.alerts(deviceID: deviceID) }
    }

    func withFixture(database: String = "sqlite", _ body: (Fixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-alerts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "test.alerts")
        logger.logLevel = .warning
        let store = try await ServerStore.open(database: database, dataDirectory: directory, logger: logger)
        do {
            let blobs = try BlobStore(root: directory)
            let catalog = Catalog(store: store, blobs: blobs, signer: try PackageSigner.loadOrCreate(in: directory), serverID: "test")
            let center = AlertCenter(store: store, blobs: blobs, catalog: catalog, webhooks: WebhookConfiguration(), serverID: "test", logger: logger)
            let deviceID = UUID().uuidString.lowercased()
            try await DeviceRecord(id: deviceID, publicKey: Data(count: 32), hostname: "term-1", state: .accepted).create(on: store.db)
            try await body(Fixture(center: center, store: store, directory: directory, deviceID: deviceID))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Runs `body` on a fresh database of the test PostgreSQL, dropped afterwards.
    func onScratchPostgres(_ body: (String) async throws -> Void) async throws {
        try await ScratchPostgres.run(prefix: "pb_alert", body)
    }

    @Test func rulesAreValidatedAndNamesUnique() async throws {
        try await withFixture { fixture in
            let center = fixture.center
            _ = try await center.addRule(try LogRuleSpec(name: "oom", pattern: "Out of memory", severity: "critical"))
            await #expect(throws: ServerError.self) { _ = try await center.addRule(try LogRuleSpec(name: "oom", pattern: "x")) }
            func invalid(_ make: () throws -> LogRuleSpec, _ words: String) {
                do {
                    _ = try make()
                    Issue.record("accepted, expected: \(words)")
                } catch let error as ServerError {
                    #expect(error.code == .invalid && error.message.contains(words), "\(error)")
                } catch {
                    Issue.record("\(error)")
                }
            }
            invalid({ try LogRuleSpec(name: "bad", pattern: "(a)\\1") }, "position 4: backreferences")
            invalid({ try LogRuleSpec(name: "bad", pattern: "") }, "empty")
            invalid({ try LogRuleSpec(name: "bad name", pattern: "x") }, "letters, digits")
            invalid({ try LogRuleSpec(name: "bad", pattern: "x", severity: "loud") }, "info, warning or critical")
            invalid({ try LogRuleSpec(name: "bad", pattern: "x", threshold: 0) }, "count")
            invalid({ try LogRuleSpec(name: "bad", pattern: "x", windowSeconds: -1) }, "window")
            invalid({ try LogRuleSpec(name: "bad", pattern: "x", path: "[z-a]") }, "path glob")
            do {
                _ = try await center.addRule(try LogRuleSpec(name: "fixme", pattern: "x", remedy: "nothing-here"))
                Issue.record("a missing remedy package was accepted")
            } catch let error as ServerError {
                #expect(error.code == .invalid && error.message.contains("nothing-here"))
            }
            #expect(try await center.rules().map(\.name) == ["oom"])
            #expect(try await center.removeRule(name: "oom").name == "oom")
            #expect(try await center.rules().isEmpty)
            await #expect(throws: ServerError.self) { _ = try await center.removeRule(name: "oom") }
        }
    }

    @Test func thresholdWithinWindowAcrossFilesThenAcknowledged() async throws {
        try await withFixture { fixture in try await thresholdAndWindow(fixture) }
    }

    @Test(.enabled(if: AlertCenterTests.postgresURL != nil, "needs PIGGYBACK_TEST_POSTGRES_URL"))
    func postgresThresholdWithinWindowAcrossFilesThenAcknowledged() async throws {
        try await onScratchPostgres { url in
            try await withFixture(database: url) { fixture in try await thresholdAndWindow(fixture) }
        }
    }

    func thresholdAndWindow(_ fixture: Fixture) async throws {
        let center = fixture.center
        _ = try await center.addRule(try LogRuleSpec(name: "oom", pattern: "out of memory", caseInsensitive: true, threshold: 3, windowSeconds: 60))
        // Two matches: below the threshold, remembered for the next file.
        let first = try await fixture.analyze([
            "2024-05-01T10:00:00Z kernel: Out of memory: killed process 12",
            "2024-05-01T10:00:10Z app: fine",
            "2024-05-01T10:00:30Z kernel: OUT OF MEMORY again",
        ])
        #expect(first.lines == 3 && first.matches == ["oom": 2] && first.raised.isEmpty)
        #expect(try await fixture.alerts().isEmpty)
        #expect(try await AlertCounterRecord.query(on: fixture.store.db).count() == 1)

        // 90 s later: the old matches left the window; three within a minute raise the alert.
        let second = try await fixture.analyze([
            "2024-05-01T10:02:00Z kernel: Out of memory (1)",
            "2024-05-01T10:02:10Z kernel: Out of memory (2)",
            "2024-05-01T10:02:20Z kernel: Out of memory (3)",
            "2024-05-01T10:02:30Z kernel: Out of memory (4)",
        ])
        #expect(second.raised.count == 1)
        var alerts = try await fixture.alerts()
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.count == 4 && alert.state == "open" && alert.ruleName == "oom" && alert.severity == "warning")
        #expect(alert.firstAt == Date(timeIntervalSince1970: 1_714_557_720))  // 10:02:00Z
        #expect(alert.lastAt == Date(timeIntervalSince1970: 1_714_557_750))  // 10:02:30Z
        let json = alert.json(hostname: "term-1")
        #expect(json.samples == (1...4).map { "2024-05-01T10:02:\($0 - 1)0Z kernel: Out of memory (\($0))" })
        #expect(try await AlertCounterRecord.query(on: fixture.store.db).count() == 0)

        // More matches go to the open alert; samples stop at 10.
        let third = try await fixture.analyze((0..<20).map { "2024-05-01T11:00:\(10 + $0)Z Out of memory \($0)" })
        let alertID = try alert.requireID()
        #expect(third.raised.isEmpty && third.updated == [alertID])
        alerts = try await fixture.alerts()
        #expect(alerts.first?.count == 24)
        #expect(alerts.first?.json(hostname: "").samples.count == AlertCenter.sampleLimit)
        #expect(alerts.first?.lastAt == Date(timeIntervalSince1970: 1_714_561_229))

        // Acknowledged: later matches count again from zero and raise a new alert.
        _ = try await center.acknowledge(id: alertID)
        let fourth = try await fixture.analyze(["Out of memory", "Out of memory", "Out of memory"])
        #expect(fourth.raised.count == 1)
        alerts = try await fixture.alerts()
        #expect(alerts.map(\.state).sorted() == ["acknowledged", "open"])
        #expect(try await center.alerts(deviceID: fixture.deviceID, state: .open).first?.count == 3)
        await #expect(throws: ServerError.self) { _ = try await center.acknowledge(id: UUID()) }
    }

    @Test func remedyIsAssignedOncePerAlert() async throws {
        try await withFixture { fixture in
            let center = fixture.center
            let script = fixture.directory.appendingPathComponent("fix.sh")
            try Data("exit 0\n".utf8).write(to: script)
            let sha = try center.blobs.commit(file: script)
            let spec = try PackageSpec(AdminJSON.PackageRequest(name: "fix", version: "1", sha256: sha, kind: "script"))
            _ = try await center.catalog.add(spec, sha256: sha)
            _ = try await center.addRule(try LogRuleSpec(name: "disk", pattern: "No space left on device", path: "*.log", remedy: "fix"))

            // A file the glob does not select is not read.
            let skipped = try await fixture.analyze(["No space left on device"], path: "/var/log/app.txt")
            #expect(skipped.lines == 0 && skipped.raised.isEmpty)

            let raised = try await fixture.analyze(["write failed: No space left on device"], path: "/data/out/app.log")
            #expect(raised.raised.count == 1)
            let updated = try await fixture.analyze(["No space left on device", "No space left on device"], path: "/data/out/app.log")
            #expect(updated.updated.count == 1)
            let assignments = try await AssignmentRecord.query(on: fixture.store.db).filter(\.$deviceID == fixture.deviceID).all()
            #expect(assignments.count == 1)
            let alert = try #require(try await fixture.alerts().first)
            #expect(alert.remedyAssigned && alert.remedy == "fix" && alert.count == 3 && alert.path == "/data/out/app.log")
        }
    }

    /// The session hook: the same content collected again from the device is not counted twice.
    @Test func repeatedCollectionIsAnalysedOnce() async throws {
        try await withFixture { fixture in
            let center = fixture.center
            _ = try await center.addRule(try LogRuleSpec(name: "panic", pattern: "^panic:"))
            let file = fixture.directory.appendingPathComponent("log")
            try Data("panic: runtime error\nok\n".utf8).write(to: file)
            let sha = try center.blobs.commit(file: file)
            for _ in 0..<2 {
                try await CollectedFileRecord(
                    deviceID: fixture.deviceID, orderID: UUID(), path: "/var/log/app.log", size: 24, mtime: Date(), sha256: sha
                ).create(on: fixture.store.db)
                await center.analyzeCollected(deviceID: fixture.deviceID, path: "/var/log/app.log", sha256: sha)
            }
            #expect(try await fixture.alerts().map(\.count) == [1])
        }
    }

    @Test func trackerKeepsBoundedState() {
        var tracker = RuleTracker(threshold: 5, window: 10)
        for second in [100.0, 95, 200, 201, 202, 203] { tracker.record(time: second) { "line \(Int(second))" } }
        // 100 and 95 fell out of the window once 200 arrived; four recent ones are pending.
        #expect(tracker.open == nil)
        #expect(tracker.pending.map(\.t) == [200, 201, 202, 203])
        tracker.record(time: 204) { "line 204" }
        #expect(tracker.open?.count == 5 && tracker.open?.first == 200 && tracker.open?.last == 204 && tracker.pending.isEmpty)
        #expect(tracker.open?.samples == ["line 200", "line 201", "line 202", "line 203", "line 204"])

        var noWindow = RuleTracker(threshold: 1000, window: 0)
        for index in 0..<999 { noWindow.record(time: Double(index)) { "l\(index)" } }
        #expect(noWindow.pending.count == 999)
        #expect(noWindow.pending.compactMap(\.line).count == AlertCenter.sampleLimit)
        noWindow.record(time: 5000) { "last" }
        #expect(noWindow.open?.count == 1000 && noWindow.open?.samples.last == "last")
    }
}
