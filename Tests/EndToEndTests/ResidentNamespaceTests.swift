import Foundation
import PiggybackTestSupport
import Synchronization
import Testing

/// The resident agent as a terminal runs it: the `piggyback agent` daemon in a network
/// namespace of its own, a real server in a peer namespace across a veth pair. The link and
/// the default route come and go; another program opens a connection; sessions follow.
@Suite(.serialized) struct ResidentNamespaceTests {
    @Test(.enabled(if: getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true", "needs root for network namespaces"))
    func routeAndForeignTrafficTriggerSessions() async throws {
        guard getuid() == 0 else { throw TestFailure("CI=true but not root: network namespace tests must run") }
        let binary = try #require(DiscoveryLab.serverBinary, "the piggyback executable is not built next to the tests")
        let lab = try NamespacePair()
        defer { lab.destroy() }

        let server = try lab.spawn(in: lab.server, [binary, "server", "--data", lab.directory.appendingPathComponent("server").path,
                                                    "--listen", "\(lab.serverAddress):7443", "--discovery-port", "0", "--log-level", "error"])
        defer { server.terminate() }
        var token = ""
        for _ in 0..<100 where token.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            guard let admin = try? String(contentsOf: lab.directory.appendingPathComponent("server/admin-token"), encoding: .utf8) else { continue }
            let out = try? lab.run(in: lab.server, [binary, "admin", "--server", "http://127.0.0.1:7080", "--token",
                                                    admin.trimmingCharacters(in: .whitespacesAndNewlines), "enroll-token"])
            token = out?.split(separator: "\n").last.map(String.init) ?? ""
        }
        #expect(token.hasPrefix("pb1."))
        let data = lab.directory.appendingPathComponent("agent").path
        _ = try lab.run(in: lab.terminal, [binary, "agent", "--data", data, "--enroll", token, "--once", "--discovery", "list"])

        // Offline: the link is down. The daemon starts and waits.
        try lab.ip("-n", lab.terminal, "link", "set", lab.terminalLink, "down")
        let agent = try lab.spawn(in: lab.terminal, [binary, "agent", "--data", data, "--trace", "--discovery", "list",
                                                     "--debounce", "0", "--jitter", "0", "--min-interval", "0", "--log-level", "error"])
        defer { agent.terminate() }
        try await Task.sleep(for: .seconds(1))
        #expect(agent.count("→ 10") == 0)

        // Link up and a default route: a session rides along.
        try lab.ip("-n", lab.terminal, "link", "set", lab.terminalLink, "up")
        try lab.ip("-n", lab.terminal, "route", "add", "default", "via", lab.serverAddress)
        try await agent.waitFor("← 1050", count: 1)

        // The route goes: nothing happens.
        try lab.ip("-n", lab.terminal, "route", "del", "default")
        try await Task.sleep(for: .seconds(2))
        #expect(agent.count("→ 10") == 1)

        // It comes back: another session.
        try lab.ip("-n", lab.terminal, "route", "add", "default", "via", lab.serverAddress)
        try await agent.waitFor("← 1050", count: 2)

        // Another program opens a connection to the peer: another session.
        try await Task.sleep(for: .milliseconds(1500))
        let client = try lab.spawn(in: lab.terminal, ["/bin/bash", "-c", "exec 3<>/dev/tcp/\(lab.serverAddress)/7443; sleep 3"])
        defer { client.terminate() }
        try await agent.waitFor("← 1050", count: 3)

        // SIGTERM: the daemon exits cleanly.
        agent.process.terminate()
        for _ in 0..<100 where agent.process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!agent.process.isRunning)
        #expect(agent.process.terminationStatus == 0, "\(agent.tail)")
    }
}

/// Two network namespaces joined by a veth pair: `server` (…1) and `terminal` (…2).
struct NamespacePair {
    let tag = String(UUID().uuidString.prefix(6)).lowercased()
    var server: String { "pbs\(tag)" }
    var terminal: String { "pbt\(tag)" }
    var serverLink: String { "vs\(tag)" }
    var terminalLink: String { "vt\(tag)" }
    let serverAddress = "10.98.0.1"
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-resident-\(UUID().uuidString)")

    init() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try ip("netns", "add", server)
        try ip("netns", "add", terminal)
        try ip("link", "add", serverLink, "type", "veth", "peer", "name", terminalLink)
        try ip("link", "set", serverLink, "netns", server)
        try ip("link", "set", terminalLink, "netns", terminal)
        for (namespace, link, address) in [(server, serverLink, "10.98.0.1/24"), (terminal, terminalLink, "10.98.0.2/24")] {
            try ip("-n", namespace, "addr", "add", address, "dev", link)
            try ip("-n", namespace, "link", "set", link, "up")
            try ip("-n", namespace, "link", "set", "lo", "up")
        }
    }

    func destroy() {
        try? ip("netns", "del", server)
        try? ip("netns", "del", terminal)
        try? FileManager.default.removeItem(at: directory)
    }

    func ip(_ arguments: String...) throws {
        _ = try run(nil, arguments)
    }

    /// Runs a command (in `namespace`) to completion and returns its standard output.
    func run(in namespace: String, _ command: [String]) throws -> String {
        try run(namespace, command)
    }

    private func run(_ namespace: String?, _ command: [String]) throws -> String {
        let arguments = namespace.map { ["netns", "exec", $0] + command } ?? command
        let result = try runCommand(DiscoveryLab.ipTool ?? "/usr/sbin/ip", arguments, separateErrors: true)
        guard result.status == 0 else { throw TestFailure("\(command.joined(separator: " ")) failed: \(result.errors)") }
        return result.output
    }

    /// Starts a long-running command in `namespace`, collecting its output lines.
    func spawn(in namespace: String, _ command: [String]) throws -> RunningCommand {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DiscoveryLab.ipTool ?? "/usr/sbin/ip")
        process.arguments = ["netns", "exec", namespace] + command
        let running = RunningCommand(process: process)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in running.append(handle.availableData) }
        try process.run()
        return running
    }
}

/// A command running in the background and the lines it printed.
final class RunningCommand: Sendable {
    let process: Process
    private let text = Mutex<String>("")

    init(process: Process) { self.process = process }

    func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }

    /// Lines starting with `prefix` so far.
    func count(_ prefix: String) -> Int {
        text.withLock { $0.split(separator: "\n").filter { $0.hasPrefix(prefix) }.count }
    }

    func waitFor(_ prefix: String, count: Int, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while self.count(prefix) < count {
            guard ContinuousClock.now < deadline else {
                throw TestFailure("expected \(count) × \(prefix); output:\n\(text.withLock { String($0.suffix(3000)) })")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The last lines printed, for failure messages.
    var tail: String { text.withLock { String($0.suffix(2000)) } }

    func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

extension Process: @retroactive @unchecked Sendable {}
