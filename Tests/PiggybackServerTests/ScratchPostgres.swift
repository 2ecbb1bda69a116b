import Foundation
@testable import PiggybackServer

/// A fresh database per test on the test PostgreSQL (PIGGYBACK_TEST_POSTGRES_URL), so tests
/// running in parallel never see each other's rows; dropped afterwards.
enum ScratchPostgres {
    /// The test server's URL, when one is given.
    static var baseURL: String? { ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] }

    /// Runs `body` with the URL of a new database named `prefix_…`.
    static func run(prefix: String, _ body: (String) async throws -> Void) async throws {
        guard let base = baseURL, var components = URLComponents(string: base) else {
            throw ServerError(.configuration, "PIGGYBACK_TEST_POSTGRES_URL is not a URL")
        }
        let name = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        try psql(base, "CREATE DATABASE \(name)")
        components.path = "/" + name
        defer { try? psql(base, "DROP DATABASE \(name)") }
        try await body(components.string ?? base)
    }

    static func psql(_ url: String, _ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", command]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServerError(.storage, "psql \(url) failed: \(command)") }
    }
}
