import FluentKit
import Foundation
import Logging
import PiggybackProtocol
@testable import PiggybackServer
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A whole server in this process (listeners on loopback ports the kernel picks), for the
/// admin API; sessions are driven through its context.
final class RunningServer: Sendable {
    let server: ManagementServer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let adminPort: Int
    let directory: URL

    init(server: ManagementServer, group: ServiceGroup, task: Task<Void, any Error>, adminPort: Int, directory: URL) {
        self.server = server
        self.group = group
        self.task = task
        self.adminPort = adminPort
        self.directory = directory
    }

    static func with(_ body: (RunningServer) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-api-\(UUID().uuidString)")
        let configuration = ServerConfiguration(
            dataDirectory: directory, listenHost: "127.0.0.1", listenPort: 0, adminHost: "127.0.0.1", adminPort: 0, discoveryPort: 0
        )
        var logger = Logger(label: "test.collection-api")
        logger.logLevel = .critical
        let server = try await ManagementServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: server.services, logger: logger))
        let task = Task { try await group.run() }
        let running = RunningServer(server: server, group: group, task: task, adminPort: await server.ready().admin, directory: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            try await body(running)
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    var context: ServerContext { server.context }

    /// A harness over this server's context, for driving sessions.
    var harness: CollectionHarness { CollectionHarness(context: context, store: context.store, directory: directory) }

    func request(_ method: String, _ path: String, json: [String: any Sendable]? = nil) async throws -> (Int, Data, HTTPURLResponse?) {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(adminPort)\(path)")))
        request.httpMethod = method
        request.setValue("Bearer \(server.adminToken.value)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, data, http)
    }

    func json(_ method: String, _ path: String, json: [String: any Sendable]? = nil) async throws -> Any {
        let (status, data, _) = try await request(method, path, json: json)
        guard (200..<300).contains(status) else { throw ServerError(.invalid, "\(method) \(path) → \(status): \(String(decoding: data, as: UTF8.self))") }
        return try JSONSerialization.jsonObject(with: data)
    }
}

/// The admin API of collection: orders, progress, cancel, files and their content.
@Suite struct CollectionAPITests {
    @Test func ordersProgressFilesAndSegmentsOverHTTP() async throws {
        try await RunningServer.with { server in
            let h = server.harness
            let device = try await h.device("kiosk-7", labels: ["site": "osaka"])

            // Refusals with their reasons.
            let (bad, body, _) = try await server.request("POST", "/v1/collections", json: ["label": "site=osaka", "paths": ["/var/log/syslog"], "kind": "log", "delete_after": true])
            #expect(bad == 400 && String(decoding: body, as: UTF8.self).contains("whole files only"))
            let (twice, _, _) = try await server.request("POST", "/v1/collections", json: ["device": device, "all": true, "paths": ["x"]])
            #expect(twice == 400)

            let created = try #require(try await server.json("POST", "/v1/collections", json: [
                "label": "site=osaka", "paths": ["/var/log/syslog"], "kind": "log", "since_last": true,
            ]) as? [String: Any])
            #expect(created["target"] as? String == "label:site=osaka")
            #expect(created["kind"] as? String == "log" && created["repeat"] as? String == "every_session")
            #expect(created["since_last"] as? Bool == true && created["delete_after"] as? Bool == false && created["devices"] == nil)
            let order = try #require(created["id"] as? String)
            let files = try #require(try await server.json("POST", "/v1/collections", json: ["device": device, "paths": ["*.csv"]]) as? [String: Any])
            #expect(files["repeat"] as? String == "once" && files["kind"] as? String == "files")

            var listing = try #require(try await server.json("GET", "/v1/collections") as? [[String: Any]])
            #expect(listing.count == 2)
            var rows = try #require(listing.first { $0["id"] as? String == order }?["devices"] as? [[String: Any]])
            #expect(rows.count == 1 && rows.first?["state"] as? String == "pending" && rows.first?["hostname"] as? String == "kiosk-7")

            // Two segments of the log, then the order done with a problem.
            var session = try await h.session(device)
            _ = try await session.orders()
            _ = try await session.upload(order: order, path: "/var/log/syslog", data: Array("one\ntwo\n".utf8), segment: true, streamOffset: 0)
            _ = try await session.upload(order: order, path: "/var/log/syslog", data: Array("three\n".utf8), segment: true, streamOffset: 8)
            try await session.done(order: order, files: 2, problems: [("/var/log/syslog.2.gz", "unreadable")])

            listing = try #require(try await server.json("GET", "/v1/collections") as? [[String: Any]])
            rows = try #require(listing.first { $0["id"] as? String == order }?["devices"] as? [[String: Any]])
            let row = try #require(rows.first)
            #expect(row["state"] as? String == "done" && row["runs"] as? Int == 1 && row["files"] as? Int == 2 && row["bytes"] as? Int == 14)
            #expect(row["uploading_bytes"] as? Int == 0 && row["last_run_at"] is String)
            #expect((row["problems"] as? [[String: String]]) == [["path": "/var/log/syslog.2.gz", "reason": "unreadable"]])

            let held = try #require(try await server.json("GET", "/v1/devices/\(device)/files") as? [[String: Any]])
            #expect(held.count == 2 && held.allSatisfy { $0["segment"] as? Bool == true })
            #expect(Set(held.compactMap { $0["stream_offset"] as? Int }) == [0, 8])

            let (status, content, response) = try await server.request("GET", "/v1/devices/\(device)/files/content?path=%2Fvar%2Flog%2Fsyslog")
            #expect(status == 200 && String(decoding: content, as: UTF8.self) == "one\ntwo\nthree\n")
            #expect(response?.value(forHTTPHeaderField: "X-Piggyback-Segments") == "2")
            let (missing, _, _) = try await server.request("GET", "/v1/devices/\(device)/files/content?path=nope")
            #expect(missing == 404)

            // Cancelling: gone from the listing and from the next 1040.
            let cancelled = try #require(try await server.json("DELETE", "/v1/collections/\(order)") as? [String: Any])
            #expect(cancelled["id"] as? String == order)
            listing = try #require(try await server.json("GET", "/v1/collections") as? [[String: Any]])
            #expect(listing.count == 1)
            var next = try await h.session(device)
            let standing = try #require(files["id"] as? String)
            #expect(try await next.orders().map(\.orderID) == [standing])
            let (gone, _, _) = try await server.request("DELETE", "/v1/collections/\(order)")
            #expect(gone == 404)
        }
    }
}
