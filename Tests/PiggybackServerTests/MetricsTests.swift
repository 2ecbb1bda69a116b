import Foundation
import PiggybackProtocol
@testable import PiggybackServer
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `GET /metrics`: Prometheus text with the server's own counts, one registry per server.
@Suite struct MetricsTests {
    /// The value of the sample `name{labels}` (or unlabelled `name`) in exposition text.
    static func sample(_ text: String, _ name: String, _ labels: String = "") -> Double? {
        let key = labels.isEmpty ? name : "\(name){\(labels)}"
        for line in text.split(separator: "\n") where line.hasPrefix(key + " ") {
            return Double(line.dropFirst(key.count + 1))
        }
        return nil
    }

    @Test func endpointShowsCollectedBytesAndARaisedAlert() async throws {
        try await RunningServer.with { server in
            let h = server.harness
            _ = try await h.context.alerts.addRule(try LogRuleSpec(name: "disk", pattern: "I/O error", severity: "critical"))
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["/var/log/kern.log"], kind: .log))
            let log = Array("ok\nsda: I/O error, sector 42\nok\n".utf8)
            var session = try await h.session(device)
            _ = try await session.orders()
            #expect(try await session.upload(order: order, path: "/var/log/kern.log", data: log, segment: true).stored)
            // The same content for another order: the blob is held, indexed without bytes sent;
            // for a since-last order, answered as stored without a new row.
            let files = try await h.order(.init(deviceID: device, paths: ["x"]))
            let since = try await h.order(.init(deviceID: device, paths: ["x"], sinceLast: true))
            var again = try await h.session(device)
            _ = try await again.orders()
            #expect(try await again.header(order: files, path: "/var/log/kern.log", data: log).0.stored)
            #expect(try await again.header(order: since, path: "/var/log/kern.log", data: log).0.stored)

            let (status, body, response) = try await server.request("GET", "/metrics")
            #expect(status == 200)
            #expect(response?.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
            let text = String(decoding: body, as: UTF8.self)
            #expect(Self.sample(text, ServerMetrics.Name.alertsRaised, #"severity="critical""#) == 1, "\(text)")
            #expect(Self.sample(text, ServerMetrics.Name.collectedBytes) == Double(log.count))
            #expect(Self.sample(text, ServerMetrics.Name.collectedFiles) == 2)
            #expect(Self.sample(text, ServerMetrics.Name.collectedUnchanged) == 1)
            #expect(Self.sample(text, ServerMetrics.Name.telexesReceived) == nil)

            // Without the token: refused like every admin route.
            var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(server.adminPort)/metrics")))
            request.httpMethod = "GET"
            let (_, unauthorized) = try await URLSession.shared.data(for: request)
            #expect((unauthorized as? HTTPURLResponse)?.statusCode == 401)

            // Another server in the same process counts for itself.
            try await RunningServer.with { other in
                let (_, otherBody, _) = try await other.request("GET", "/metrics")
                #expect(Self.sample(String(decoding: otherBody, as: UTF8.self), ServerMetrics.Name.alertsRaised, #"severity="critical""#) == nil)
            }
        }
    }

    @Test func sessionsTelexesWebhooksAndDeliveredBytesAreCounted() {
        let metrics = ServerMetrics()
        metrics.received(code: 40)
        metrics.received(code: 40)
        metrics.sent(code: 1040)
        metrics.sessionEnded(outcome: "ok")
        metrics.sessionEnded(outcome: "refused")
        metrics.add(ServerMetrics.Name.deliveredBytes, 1000)
        metrics.add(ServerMetrics.Name.deliveredBytes, 0)
        metrics.add(ServerMetrics.Name.webhookDeliveries, 1, [("result", "failed")])
        let text = metrics.render()
        #expect(Self.sample(text, ServerMetrics.Name.telexesReceived, #"code="40""#) == 2)
        #expect(Self.sample(text, ServerMetrics.Name.telexesSent, #"code="1040""#) == 1)
        #expect(Self.sample(text, ServerMetrics.Name.sessions, #"outcome="ok""#) == 1)
        #expect(Self.sample(text, ServerMetrics.Name.sessions, #"outcome="refused""#) == 1)
        #expect(Self.sample(text, ServerMetrics.Name.deliveredBytes) == 1000)
        #expect(Self.sample(text, ServerMetrics.Name.webhookDeliveries, #"result="failed""#) == 1)
        #expect(text.contains("# TYPE \(ServerMetrics.Name.sessions) counter"))
    }
}
