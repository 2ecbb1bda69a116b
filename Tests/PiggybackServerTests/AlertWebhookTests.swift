import Foundation
import HTTPTypes
import Hummingbird
import Logging
@testable import PiggybackServer
import ServiceLifecycle
import Synchronization
import Testing

/// A webhook receiver on loopback that answers 500 to its first `failures` POSTs.
final class WebhookReceiver: Sendable {
    struct Post: Sendable {
        let event: String
        let delivery: String
        let contentType: String
        let body: Data
        let at: ContinuousClock.Instant
    }

    /// What arrived, shared with the route handler.
    final class Log: Sendable {
        let posts = Mutex<[Post]>([])
    }

    let log: Log
    let failures: Int
    let port: Int
    let group: ServiceGroup
    let task: Task<Void, any Error>

    var received: [Post] { log.posts.withLock { $0 } }
    var url: URL { URL(string: "http://127.0.0.1:\(port)/hook")! }

    static func start(failures: Int) async throws -> WebhookReceiver {
        let log = Log()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let post = Post(
                event: request.headers[HTTPField.Name("X-Piggyback-Event")!] ?? "",
                delivery: request.headers[HTTPField.Name("X-Piggyback-Delivery")!] ?? "",
                contentType: request.headers[.contentType] ?? "", body: Data(body.readableBytesView), at: .now)
            let count = log.posts.withLock { list in
                list.append(post)
                return list.count
            }
            return Response(status: count <= failures ? .internalServerError : .ok)
        }
        let bound = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test.receiver")
        logger.logLevel = .warning
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var ports = bound.stream.makeAsyncIterator()
        let port = await ports.next() ?? 0
        return WebhookReceiver(log: log, failures: failures, port: port, group: group, task: task)
    }

    private init(log: Log, failures: Int, port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.log = log
        self.failures = failures
        self.port = port
        self.group = group
        self.task = task
    }

    /// Waits (polling, up to `timeout`) until `count` POSTs arrived.
    func wait(for count: Int, timeout: Duration = .seconds(30)) async throws -> [Post] {
        let deadline = ContinuousClock.now + timeout
        while received.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return received
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

@Suite struct AlertWebhookTests {
    static func alert(id: String = "a1", count: Int64 = 1) -> AdminJSON.Alert {
        AdminJSON.Alert(
            id: id, device: "dev-1", hostname: "term-1", rule: "oom", severity: "critical", state: "open", count: count,
            first_at: "2024-05-01T10:00:00Z", last_at: "2024-05-01T10:00:05Z", samples: ["kernel: Out of memory"],
            path: "/var/log/kern.log", remedy: "fix", remedy_assigned: true, acknowledged_at: nil)
    }

    static var logger: Logger {
        var logger = Logger(label: "test.webhooks")
        logger.logLevel = .critical
        return logger
    }

    /// The receiver fails the first two POSTs with 500: the same delivery comes a third
    /// time after growing waits, with the alert as JSON.
    @Test func retriesWithBackoffUntilAccepted() async throws {
        let receiver = try await WebhookReceiver.start(failures: 2)
        let configuration = WebhookConfiguration(urls: [receiver.url], maxAttempts: 5, initialBackoff: .milliseconds(200))
        let sender = WebhookSender(configuration: configuration, logger: Self.logger)
        let running = Task { try await sender.run() }
        await sender.submit(AdminJSON.AlertEvent(event: .raised, serverID: "srv", alert: Self.alert()))
        let posts = try await receiver.wait(for: 3)
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.received.count == 3)  // accepted: no fourth attempt
        #expect(posts.count == 3)
        #expect(Set(posts.map(\.delivery)).count == 1 && posts[0].delivery.count == 36)
        #expect(posts.allSatisfy { $0.event == "alert.raised" && $0.contentType == "application/json" })
        if posts.count == 3 {
            #expect(posts[1].at - posts[0].at >= .milliseconds(200))
            #expect(posts[2].at - posts[1].at >= .milliseconds(400))
        }
        let body = try #require(posts.last.flatMap { try JSONSerialization.jsonObject(with: $0.body) as? [String: Any] })
        #expect(body["event"] as? String == "alert.raised")
        #expect(body["server_id"] as? String == "srv")
        let alert = try #require(body["alert"] as? [String: Any])
        #expect(alert["rule"] as? String == "oom" && alert["device"] as? String == "dev-1" && alert["count"] as? Int == 1)
        #expect(alert["samples"] as? [String] == ["kernel: Out of memory"])
        #expect(alert["remedy_assigned"] as? Bool == true)
        running.cancel()
        _ = try? await running.value
        await receiver.stop()
    }

    /// Updates of one alert wait for the interval and collapse into the latest.
    @Test func updatesAreThrottledAndCoalesced() async throws {
        let receiver = try await WebhookReceiver.start(failures: 0)
        let configuration = WebhookConfiguration(urls: [receiver.url], updateInterval: .milliseconds(500))
        let sender = WebhookSender(configuration: configuration, logger: Self.logger)
        let running = Task { try await sender.run() }
        await sender.submit(AdminJSON.AlertEvent(event: .raised, serverID: "srv", alert: Self.alert(count: 1)))
        for count in 2...5 {
            await sender.submit(AdminJSON.AlertEvent(event: .updated, serverID: "srv", alert: Self.alert(count: Int64(count))))
        }
        let posts = try await receiver.wait(for: 2)
        try await Task.sleep(for: .milliseconds(700))
        #expect(receiver.received.count == 2)
        #expect(posts.map(\.event) == ["alert.raised", "alert.updated"])
        if posts.count == 2 {
            // Four updates became one post: the throttle held them back (the receiver's clock
            // is not compared, a loaded machine delays the first post as much as the second).
            let latest = try JSONSerialization.jsonObject(with: posts[1].body) as? [String: Any]
            #expect((latest?["alert"] as? [String: Any])?["count"] as? Int == 5)
        }
        running.cancel()
        _ = try? await running.value
        await receiver.stop()
    }

    /// A receiver that never answers cannot grow memory: the queue keeps its limit.
    @Test func queueIsBounded() async throws {
        let configuration = WebhookConfiguration(urls: [URL(string: "http://127.0.0.1:9/hook")!], queueLimit: 3)
        let sender = WebhookSender(configuration: configuration, logger: Self.logger)
        for index in 0..<10 {
            await sender.submit(AdminJSON.AlertEvent(event: .raised, serverID: "srv", alert: Self.alert(id: "a\(index)")))
        }
        #expect(await sender.queue.waiting.count == 3)
        #expect(await sender.queue.dropped == 7)
        #expect(await sender.queue.waiting.map(\.alertID) == ["a7", "a8", "a9"])
    }

    /// A receiver that keeps failing is given up after the last attempt.
    @Test func givesUpAfterTheLastAttempt() async throws {
        let receiver = try await WebhookReceiver.start(failures: 100)
        let configuration = WebhookConfiguration(urls: [receiver.url], maxAttempts: 3, initialBackoff: .milliseconds(50))
        let sender = WebhookSender(configuration: configuration, logger: Self.logger)
        let running = Task { try await sender.run() }
        await sender.submit(AdminJSON.AlertEvent(event: .raised, serverID: "srv", alert: Self.alert()))
        _ = try await receiver.wait(for: 3)
        try await Task.sleep(for: .milliseconds(500))
        #expect(receiver.received.count == 3)
        #expect(await sender.queue.waiting.isEmpty)
        running.cancel()
        _ = try? await running.value
        await receiver.stop()
    }

    @Test func backoffDoublesUpToTheMaximum() {
        let configuration = WebhookConfiguration()
        #expect((1...10).map { configuration.backoff(after: $0) } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map { Duration.seconds($0) })
    }
}
