import Foundation
import Logging
import PiggybackServer
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real server in this process: TLS agent endpoint and admin API on loopback ports
/// chosen by the kernel, storage on SQLite or on the PostgreSQL given to the tests.
final class TestServer: Sendable {
    let server: ManagementServer
    let group: ServiceGroup
    let task: Task<Void, any Error>
    let agentPort: Int
    let adminPort: Int
    let directory: URL

    static func start(
        database: TestDatabase = .sqlite, maxFrameSize: Int? = nil, chunkSize: Int = 64 * 1024, authenticationTimeout: Duration = .seconds(30),
        discoveryPort: Int = 0, location: (lat: Double, lon: Double)? = nil
    ) async throws -> TestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-server-\(UUID().uuidString)")
        var configuration = ServerConfiguration(
            dataDirectory: directory, listenHost: "127.0.0.1", listenPort: 0, adminHost: "127.0.0.1", adminPort: 0,
            database: try await database.url(), chunkSize: chunkSize, window: 4
        )
        if let maxFrameSize { configuration.maxFrameSize = maxFrameSize }
        configuration.authenticationTimeout = authenticationTimeout
        configuration.discoveryPort = discoveryPort
        configuration.location = location
        var logger = Logger(label: "test.server")
        logger.logLevel = .warning
        let server = try await ManagementServer(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: server.services, logger: logger))
        let task = Task { try await group.run() }
        let ports = await server.ready()
        return TestServer(server: server, group: group, task: task, agentPort: ports.agent, adminPort: ports.admin, directory: directory)
    }

    init(server: ManagementServer, group: ServiceGroup, task: Task<Void, any Error>, agentPort: Int, adminPort: Int, directory: URL) {
        self.server = server
        self.group = group
        self.task = task
        self.agentPort = agentPort
        self.adminPort = adminPort
        self.directory = directory
    }

    var endpoint: String { "wss://127.0.0.1:\(agentPort)/v1/session" }

    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: admin API

    func admin(_ method: String, _ path: String, json: [String: any Sendable]? = nil, body: Data? = nil) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(adminPort)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(server.adminToken.value)", forHTTPHeaderField: "Authorization")
        if let json {
            request.httpBody = try JSONSerialization.data(withJSONObject: json)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    func adminJSON(_ method: String, _ path: String, json: [String: any Sendable]? = nil, body: Data? = nil) async throws -> Any {
        let (status, data) = try await admin(method, path, json: json, body: body)
        guard (200..<300).contains(status) else {
            throw TestFailure("\(method) \(path) → \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: data)
    }

    func enrollToken(uses: Int = 1, expiresIn: Double = 3600) async throws -> String {
        let answer = try await adminJSON("POST", "/v1/enroll-tokens", json: ["uses": uses, "expires_in_seconds": expiresIn]) as? [String: Any]
        return answer?["token"] as? String ?? ""
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The database a test runs against: SQLite in the data directory, or a fresh database
/// on the PostgreSQL named by PIGGYBACK_TEST_POSTGRES_URL.
enum TestDatabase: Sendable {
    case sqlite
    case postgres

    static var postgresURL: String? { ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] }

    /// Whether PostgreSQL tests can run: always in CI (where a missing URL is a failure), locally when a URL is given.
    static var postgresEnabled: Bool {
        postgresURL != nil || ProcessInfo.processInfo.environment["CI"] == "true"
    }

    func url() async throws -> String {
        switch self {
        case .sqlite: return "sqlite"
        case .postgres:
            guard let base = Self.postgresURL else {
                throw TestFailure("CI=true but PIGGYBACK_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
            }
            return try await PostgresScratch.createDatabase(base: base)
        }
    }
}
