import Crypto
import Foundation
import PiggybackAgent
import PiggybackProtocol
import Testing

/// Fig. 4 end to end: a real agent and a real server over TLS WebSocket on loopback,
/// with a package delivered and a file collected, on both storage backends.
@Suite struct FullSessionTests {
    @Test func sqlite() async throws {
        try await fullSession(.sqlite)
    }

    @Test(.enabled(if: TestDatabase.postgresEnabled, "needs PIGGYBACK_TEST_POSTGRES_URL (always set in CI)"))
    func postgres() async throws {
        try await fullSession(.postgres)
    }

    func fullSession(_ database: TestDatabase) async throws {
        let server = try await TestServer.start(database: database)
        let agent = TestAgent(position: (35.68, 139.76, 25))
        defer { agent.remove() }

        let id = try agent.enroll(try await server.enrollToken())
        let first = try await agent.run()
        #expect(first.enrolled)
        #expect(first.offered.isEmpty)
        #expect(agent.lines.all.first?.hasSuffix(": list #1") == true)
        #expect(agent.lines.all.first { !$0.hasPrefix("  ") } == "→ 10 discover 42 B")

        let detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        let inventory = detail?["inventory"] as? [String: [String: String]]
        #expect(inventory?["os"]?["hostname"]?.isEmpty == false)
        #expect(inventory?["memory"]?["total"] != nil)
        #expect(inventory?["cpu"]?["cores"] != nil)
        #expect((detail?["position"] as? [String: Any])?["lat"] as? Double == 35.68)

        let package = Data((0..<200_000).map { _ in UInt8.random(in: 0...255) })
        _ = try await server.adminJSON("PUT", "/v1/packages/tool/1.0", body: package)
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "tool", "device": id])
        let result = Data((0..<150_000).map { _ in UInt8.random(in: 0...255) })
        try result.write(to: agent.outbox.appendingPathComponent("result.csv"))
        _ = try await server.adminJSON("POST", "/v1/collections", json: ["device": id, "paths": ["*.csv"]])

        let second = try await agent.run()
        #expect(second.delivered == ["tool@1.0"])
        #expect(second.downloadedBytes == package.count)
        let received = try Data(contentsOf: agent.directory.appendingPathComponent("packages/tool@1.0"))
        #expect(received == package)
        #expect(second.collected.count == 1)
        #expect(second.uploadedBytes == result.count)

        let files = try await server.adminJSON("GET", "/v1/devices/\(id)/files") as? [[String: Any]]
        #expect(files?.count == 1)
        #expect(files?.first?["sha256"] as? String == Hex.encode(SHA256.hash(data: result)))
        let path = agent.outbox.appendingPathComponent("result.csv").path
        let (status, content) = try await server.admin("GET", "/v1/devices/\(id)/files/content?path=\(path)")
        #expect(status == 200)
        #expect(content == result)
        let deliveries = (try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any])?["deliveries"] as? [[String: Any]]
        #expect(deliveries?.first?["state"] as? String == "downloaded")
        // A single file as a files package: installed as DATA/files/tool/tool after the session.
        #expect(second.installed == ["tool@1.0: installed"])
        #expect(try Data(contentsOf: agent.directory.appendingPathComponent("files/tool/tool")) == package)

        // Nothing twice: the next session offers nothing and collects nothing, and carries the install result.
        let third = try await agent.run()
        #expect(third.offered.isEmpty)
        #expect(third.collected.isEmpty)
        #expect(third.downloadedBytes == 0 && third.uploadedBytes == 0)
        let installed = (try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any])?["deliveries"] as? [[String: Any]]
        #expect(installed?.first?["state"] as? String == "installed")
        try await server.stop()
    }

    @Test func deferredOfferStaysPendingForTheNextSession() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken()
        let shy = TestAgent(consent: .defer)
        defer { shy.remove() }
        let id = try shy.enroll(token)
        _ = try await shy.run()
        _ = try await server.adminJSON("PUT", "/v1/packages/maps/3", body: Data("tiles".utf8))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "maps", "device": id])
        let deferred = try await shy.run()
        #expect(deferred.deferred == ["maps@3"])
        #expect(deferred.delivered.isEmpty)
        #expect(shy.lines.all.contains("→ 80 end 17 B") || shy.lines.all.contains { $0.hasPrefix("→ 80 end") })
        let state = ((try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any])?["deliveries"] as? [[String: Any]])?.first?["state"]
        #expect(state as? String == "deferred")
        try await server.stop()
    }
}
