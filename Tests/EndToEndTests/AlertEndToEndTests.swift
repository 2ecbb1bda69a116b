import Foundation
import Hummingbird
import Logging
@testable import PiggybackServer
import ServiceLifecycle
import Synchronization
import Testing

/// Issue 6, analysis and alerts end to end: a real agent's log is collected, a rule
/// matches, the alert shows in the admin API and reaches a webhook receiver, and the
/// rule's remedy package goes out at the next session.
@Suite struct AlertEndToEndTests {
    /// A loopback HTTP receiver that records POST bodies and fails the first `failures`.
    final class Receiver: Sendable {
        final class Log: Sendable {
            let bodies = Mutex<[Data]>([])
        }

        let log: Log
        let group: ServiceGroup
        let task: Task<Void, any Error>
        let port: Int

        init(failures: Int) async throws {
            let log = Log()
            self.log = log
            let router = Router()
            router.post("/alerts") { request, _ -> Response in
                let body = try await request.body.collect(upTo: 1 << 20)
                let count = log.bodies.withLock { bodies in
                    bodies.append(Data(body.readableBytesView))
                    return bodies.count
                }
                return Response(status: count <= failures ? .internalServerError : .noContent)
            }
            var logger = Logger(label: "test.receiver")
            logger.logLevel = .warning
            let bound = AsyncStream<Int>.makeStream()
            let app = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in bound.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
            self.group = group
            task = Task { try await group.run() }
            var ports = bound.stream.makeAsyncIterator()
            port = await ports.next() ?? 0
        }

        var bodies: [Data] { log.bodies.withLock { $0 } }

        func wait(for count: Int) async throws -> [Data] {
            let deadline = ContinuousClock.now + .seconds(30)
            while bodies.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            return bodies
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
    }

    /// A test server (as `TestServer.start`) whose alerts go to `webhook`.
    static func server(webhook: URL) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-server-\(UUID().uuidString)")
        var configuration = ServerConfiguration(
            dataDirectory: directory, listenHost: "127.0.0.1", listenPort: 0, adminHost: "127.0.0.1", adminPort: 0,
            database: "sqlite", chunkSize: 64 * 1024, window: 4, discoveryPort: 0
        )
        configuration.webhooks = WebhookConfiguration(urls: [webhook], initialBackoff: .milliseconds(100))
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        let server = try await ManagementServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: server.services, logger: logger))
        let task = Task { try await group.run() }
        let ports = await server.ready()
        return TestServer(server: server, group: group, task: task, agentPort: ports.agent, adminPort: ports.admin, directory: directory)
    }

    @Test func collectedLogRaisesAlertWebhookAndRemedy() async throws {
        let receiver = try await Receiver(failures: 1)
        let server = try await Self.server(webhook: URL(string: "http://127.0.0.1:\(receiver.port)/alerts")!)
        let agent = TestAgent(servers: [server.endpoint])
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()

        _ = try await server.adminJSON("PUT", "/v1/packages/fix/1?kind=script", body: Data("exit 0\n".utf8))
        // A pattern outside the safe subset is refused with its position, as a JSON error.
        let (status, refused) = try await server.admin("POST", "/v1/log-rules", json: ["name": "bad", "pattern": "(x+)\\1"])
        #expect(status == 400)
        let error = try JSONSerialization.jsonObject(with: refused) as? [String: [String: String]]
        #expect(error?["error"]?["code"] == "invalid")
        #expect(error?["error"]?["message"]?.contains("position 5: backreferences") == true)

        let rule = try await server.adminJSON("POST", "/v1/log-rules", json: [
            "name": "disk-full", "pattern": "no space left on device", "case_insensitive": true, "path": "*.log",
            "threshold": 2, "window_s": 300, "severity": "critical", "remedy": "fix",
        ]) as? [String: Any]
        #expect(rule?["name"] as? String == "disk-full" && rule?["remedy"] as? String == "fix")
        let rules = try await server.adminJSON("GET", "/v1/log-rules") as? [[String: Any]]
        #expect(rules?.count == 1)

        let lines = [
            "2024-05-01T10:00:00Z app: started",
            "2024-05-01T10:00:05Z app: write /data/out.csv: No space left on device",
            "2024-05-01T10:00:06Z app: retrying",
            "2024-05-01T10:00:07Z app: write /data/out.csv: No space left on device",
            "2024-05-01T10:00:09Z app: write /data/tmp: NO SPACE LEFT ON DEVICE",
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: agent.outbox.appendingPathComponent("app.log"))
        try Data("No space left on device\n".utf8).write(to: agent.outbox.appendingPathComponent("notes.txt"))
        _ = try await server.adminJSON("POST", "/v1/collections", json: ["device": id, "paths": ["*.log", "*.txt"]])
        let collecting = try await agent.run()
        #expect(collecting.collected.count == 2)
        #expect(collecting.offered.isEmpty)

        let alerts = try await server.adminJSON("GET", "/v1/alerts?device=\(id)") as? [[String: Any]] ?? []
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert["rule"] as? String == "disk-full" && alert["device"] as? String == id)
        #expect(alert["count"] as? Int == 3 && alert["severity"] as? String == "critical" && alert["state"] as? String == "open")
        #expect(alert["samples"] as? [String] == [lines[1], lines[3], lines[4]])
        #expect(alert["first_at"] as? String == "2024-05-01T10:00:05Z" && alert["last_at"] as? String == "2024-05-01T10:00:09Z")
        #expect((alert["path"] as? String)?.hasSuffix("/outbox/app.log") == true)
        #expect(alert["remedy_assigned"] as? Bool == true)

        // The receiver failed the first POST: the retry carries the same alert.
        let bodies = try await receiver.wait(for: 2)
        #expect(bodies.count == 2)
        let event = try #require(bodies.last.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] })
        #expect(event["event"] as? String == "alert.raised")
        #expect(event["server_id"] as? String == server.server.serverID)
        let sent = event["alert"] as? [String: Any]
        #expect(sent?["id"] as? String == alert["id"] as? String && sent?["count"] as? Int == 3)
        #expect(sent?["hostname"] as? String == alert["hostname"] as? String)

        // The remedy goes out at the next connection.
        let next = try await agent.run()
        #expect(next.offered == ["fix@1"])

        let alertID = try #require(alert["id"] as? String)
        let acknowledged = try await server.adminJSON("POST", "/v1/alerts/\(alertID)/acknowledge") as? [String: Any]
        #expect(acknowledged?["state"] as? String == "acknowledged")
        let open = try await server.adminJSON("GET", "/v1/alerts?state=open") as? [[String: Any]]
        #expect(open?.isEmpty == true)
        let (missing, _) = try await server.admin("POST", "/v1/alerts/\(UUID().uuidString)/acknowledge")
        #expect(missing == 404)
        let removed = try await server.adminJSON("DELETE", "/v1/log-rules/disk-full") as? [String: Any]
        #expect(removed?["name"] as? String == "disk-full")
        #expect((try await server.adminJSON("GET", "/v1/alerts") as? [[String: Any]])?.count == 1)
        try await server.stop()
        await receiver.stop()
    }
}
