import Foundation
import Logging
@testable import PiggybackAgent
import Testing

/// The resident daemon over real sockets: monitor signals and the control socket trigger
/// sessions against a real server; conditions shape the session's policy.
@Suite struct DaemonTests {
    static let quick = TriggerConfiguration(debounce: .milliseconds(50), minimumInterval: .zero, jitter: .zero)

    /// Runs `body` with a daemon for `agent`, cancelling it afterwards.
    func withDaemon(
        _ agent: TestAgent, triggers: TriggerConfiguration = quick, conditions: ConditionsConfiguration = .init(useNetworkManager: false),
        _ body: (AgentDaemon, AsyncStream<MonitorEvent>.Continuation, String) async throws -> Void
    ) async throws {
        let (signals, feed) = AsyncStream.makeStream(of: MonitorEvent.self)
        var logger = Logger(label: "test.daemon")
        logger.logLevel = .warning
        let daemon = AgentDaemon(agent: agent.agent, triggers: triggers, conditions: conditions, signals: signals, logger: logger)
        let task = Task { try await daemon.run() }
        let socket = AgentDaemon.controlPath(dataDirectory: agent.directory)
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(20)) }
        do {
            try await body(daemon, feed, socket)
        } catch {
            task.cancel()
            throw error
        }
        feed.finish()
        task.cancel()
        _ = try? await task.value
    }

    /// Waits until the daemon has finished `count` sessions (or fails after a while).
    func sessions(_ daemon: AgentDaemon, after: Date?) async throws -> DaemonStatus.Session {
        for _ in 0..<300 {
            let status = await daemon.status.status
            if let session = status.lastSession, !status.busy, session.started > (after ?? .distantPast) { return session }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("no session ended in time")
    }

    @Test func networkUpForeignTrafficAndManualTriggerSessions() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        try await withDaemon(agent) { daemon, feed, socket in
            feed.yield(.online(interface: "veth-test"))
            let first = try await sessions(daemon, after: nil)
            #expect(first.result == "ok")
            #expect(await daemon.status.status.lastTrigger?.kinds == ["network-up"])

            feed.yield(.foreignTraffic(remote: "10.0.0.2:443"))
            let second = try await sessions(daemon, after: first.started)
            #expect(await daemon.status.status.lastTrigger?.kinds == ["foreign-traffic"])

            #expect(try await ControlClient.send(.trigger, path: socket).hasPrefix("ok"))
            let third = try await sessions(daemon, after: second.started)
            #expect(third.result == "ok")
            #expect(await daemon.status.status.lastTrigger?.kinds == ["manual"])

            let json = try await ControlClient.send(.status, path: socket)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let status = try decoder.decode(DaemonStatus.self, from: Data(json.utf8))
            #expect(status.network == "online" && status.interface == "veth-test")
            #expect(status.lastSession?.server?.hasPrefix("wss://") == true)

            // Offline: automatic triggers start nothing.
            feed.yield(.offline)
            feed.yield(.foreignTraffic(remote: "10.0.0.2:443"))
            try await Task.sleep(for: .milliseconds(400))
            #expect(await daemon.status.status.lastSession?.started == third.started)
        }
        try await server.stop()
    }

    @Test func burstsAreDebouncedAndTheMinimumIntervalHolds() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        let triggers = TriggerConfiguration(debounce: .milliseconds(300), minimumInterval: .seconds(3600), jitter: .zero)
        try await withDaemon(agent, triggers: triggers) { daemon, feed, socket in
            feed.yield(.online(interface: "wwan0"))
            for _ in 0..<5 { feed.yield(.foreignTraffic(remote: "10.0.0.2:443")) }
            let first = try await sessions(daemon, after: nil)
            #expect(await daemon.status.status.lastTrigger?.kinds == ["network-up", "foreign-traffic"])
            // Within the minimum interval an automatic trigger waits…
            feed.yield(.foreignTraffic(remote: "10.0.0.3:443"))
            try await Task.sleep(for: .milliseconds(800))
            #expect(await daemon.status.status.lastSession?.started == first.started)
            #expect(await daemon.status.status.nextSessionAt != nil)
            // …and a manual one cuts the wait.
            _ = try await ControlClient.send(.trigger, path: socket)
            let second = try await sessions(daemon, after: first.started)
            #expect(second.result == "ok")
        }
        try await server.stop()
    }

    @Test func meteredLinkDefersLargeDeliveries() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()  // registers the device
        _ = try await server.adminJSON("PUT", "/v1/packages/maps/1", body: Data(repeating: 7, count: 300_000))
        _ = try await server.adminJSON("PUT", "/v1/packages/fix/1", body: Data("small".utf8))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "maps", "device": id])
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "fix", "device": id])
        let conditions = ConditionsConfiguration(meteredInterfaces: ["wwan0"], useNetworkManager: false, meteredMaxDeliveryBytes: 100_000)
        try await withDaemon(agent, conditions: conditions) { daemon, feed, _ in
            feed.yield(.online(interface: "wwan0"))
            let session = try await sessions(daemon, after: nil)
            #expect(session.result == "ok")
            let status = await daemon.status.status
            #expect(status.conditions?.metered == true && status.conditions?.meteredSource == "configured (wwan0)")
            #expect(status.policy?.maxDeliveryBytes == 100_000)
        }
        #expect(FileManager.default.fileExists(atPath: agent.directory.appendingPathComponent("packages/fix@1").path))
        #expect(!FileManager.default.fileExists(atPath: agent.directory.appendingPathComponent("packages/maps@1").path))
        // On an unmetered link the big one comes.
        let report = try await agent.run()
        #expect(report.delivered.contains("maps@1"))
        try await server.stop()
    }
}
