import Foundation

/// Makes a fresh, empty database per test on the test PostgreSQL, so tests can run in
/// parallel without seeing each other's devices and packages.
enum PostgresScratch {
    static func createDatabase(base: String) async throws -> String {
        guard var components = URLComponents(string: base) else { throw TestFailure("bad PostgreSQL URL \(base)") }
        let name = "pb_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", base, "-v", "ON_ERROR_STOP=1", "-qc", "CREATE DATABASE \(name)"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestFailure("cannot create test database on \(base): \(text)")
        }
        components.path = "/" + name
        return components.string ?? base
    }
}
