import Foundation
import Logging
import PiggybackServer
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The admin API answers errors as JSON with a stable code, and guards everything but health.
@Suite struct AdminAPITests {
    func errorCode(_ data: Data) -> String? {
        ((try? JSONSerialization.jsonObject(with: data)) as? [String: [String: String]])?["error"]?["code"]
    }

    @Test func errorsAreJSONWithCodes() async throws {
        let server = try await TestServer.start()
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(server.adminPort)/v1/devices")!)
        request.setValue("Bearer wrong", forHTTPHeaderField: "Authorization")
        let (body, response) = try await URLSession.shared.data(for: request)
        #expect((response as? HTTPURLResponse)?.statusCode == 401)
        #expect(errorCode(body) == "unauthorized")

        let (healthBody, health) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(server.adminPort)/v1/health")!)
        #expect((health as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: healthBody, as: UTF8.self).contains(server.server.authority.fingerprint))

        let (status404, missing) = try await server.admin("GET", "/v1/devices/nope")
        #expect(status404 == 404 && errorCode(missing) == "not_found")

        _ = try await server.adminJSON("PUT", "/v1/packages/p/1", body: Data("x".utf8))
        let (status409, conflict) = try await server.admin("PUT", "/v1/packages/p/1", body: Data("y".utf8))
        #expect(status409 == 409 && errorCode(conflict) == "conflict")

        let (status400, invalid) = try await server.admin("POST", "/v1/assignments", json: ["package": "p"])
        #expect(status400 == 400 && errorCode(invalid) == "invalid")

        let (statusNoPackage, noPackage) = try await server.admin("POST", "/v1/assignments", json: ["package": "q", "all": true])
        #expect(statusNoPackage == 404 && errorCode(noPackage) == "not_found")

        let packages = try await server.adminJSON("GET", "/v1/packages") as? [[String: Any]]
        #expect(packages?.first?["sha256"] as? String == "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881")
        try await server.stop()
    }

    @Test func secondServerStartReusesDataAndToken() async throws {
        let first = try await TestServer.start()
        let token = first.server.adminToken.value
        let fingerprint = first.server.authority.fingerprint
        let directory = first.directory
        await first.group.triggerGracefulShutdown()
        try await first.task.value
        var logger = Logging.Logger(label: "test")
        logger.logLevel = .warning
        let again = try await PiggybackServer.ManagementServer(
            configuration: .init(dataDirectory: directory, listenHost: "127.0.0.1", listenPort: 0, adminHost: "127.0.0.1", adminPort: 0),
            logger: logger
        )
        #expect(again.adminToken.value == token && !again.adminToken.created)
        #expect(again.authority.fingerprint == fingerprint)
        await again.close()
        try? FileManager.default.removeItem(at: directory)
    }
}
