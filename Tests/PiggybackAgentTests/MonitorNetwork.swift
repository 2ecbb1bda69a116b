import Foundation
@testable import PiggybackAgent
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two network namespaces joined by a veth pair, made for one test and removed after it:
/// the agent's side (link down until the test brings it up) and a peer with a listener.
struct MonitorNetwork {
    let agent: String
    let peer: String
    let agentLink: String
    let peerLink: String
    let agentAddress: String
    let peerAddress: String
    let agentAddress6: String
    let peerAddress6: String

    /// The namespace file the monitor joins.
    var agentPath: String { "/var/run/netns/\(agent)" }
    var peerPath: String { "/var/run/netns/\(peer)" }

    /// Root and `ip` are needed. Without them the test is skipped, unless CI=true, where a
    /// missing prerequisite is a failure.
    static func available() -> Bool {
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        var missing: String?
        if getuid() != 0 {
            missing = "root (network namespaces)"
        } else if ipTool == nil {
            missing = "the ip command (apt-get install iproute2)"
        }
        guard let missing else { return true }
        if ci { Issue.record("monitor namespace tests need \(missing)") }
        return false
    }

    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Creates both namespaces; the agent's link has its addresses but is down.
    static func create() throws -> MonitorNetwork {
        let suffix = String(UInt32.random(in: 0..<0xFF_FFFF), radix: 16)
        let (a, b) = (UInt8.random(in: 200...250), UInt8.random(in: 0...255))
        let network = MonitorNetwork(
            agent: "pbmon-a-\(suffix)", peer: "pbmon-p-\(suffix)",
            agentLink: "pbma\(suffix)", peerLink: "pbmp\(suffix)",
            agentAddress: "10.\(a).\(b).1", peerAddress: "10.\(a).\(b).2",
            agentAddress6: "fd00:\(a):\(b)::1", peerAddress6: "fd00:\(a):\(b)::2"
        )
        do {
            try network.ip("netns", "add", network.agent)
            try network.ip("netns", "add", network.peer)
            try network.ip("link", "add", network.agentLink, "type", "veth", "peer", "name", network.peerLink)
            try network.ip("link", "set", network.agentLink, "netns", network.agent)
            try network.ip("link", "set", network.peerLink, "netns", network.peer)
            try network.ip("-n", network.agent, "link", "set", "lo", "up")
            try network.ip("-n", network.peer, "link", "set", "lo", "up")
            try network.ip("-n", network.agent, "addr", "add", "\(network.agentAddress)/24", "dev", network.agentLink)
            try network.ip("-n", network.agent, "-6", "addr", "add", "\(network.agentAddress6)/64", "dev", network.agentLink, "nodad")
            try network.ip("-n", network.peer, "addr", "add", "\(network.peerAddress)/24", "dev", network.peerLink)
            try network.ip("-n", network.peer, "-6", "addr", "add", "\(network.peerAddress6)/64", "dev", network.peerLink, "nodad")
            try network.ip("-n", network.peer, "link", "set", network.peerLink, "up")
        } catch {
            network.destroy()
            throw error
        }
        return network
    }

    /// Removes both namespaces (the veth pair goes with them).
    func destroy() {
        _ = try? ip("netns", "del", agent)
        _ = try? ip("netns", "del", peer)
    }

    /// Runs `ip` and fails with its stderr.
    func ip(_ arguments: String...) throws {
        try Self.run(Self.ipTool ?? "/usr/sbin/ip", arguments)
    }

    /// `ip` in the agent's namespace, e.g. `agentIP("route", "add", "default", ...)`.
    func agentIP(_ arguments: String...) throws {
        try Self.run(Self.ipTool ?? "/usr/sbin/ip", ["-n", agent] + arguments)
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NetworkSetupError(message: "\(tool) \(arguments.joined(separator: " ")): \(text)")
        }
    }

    /// A TCP listener on the peer's address (port chosen by the kernel), opened from a thread
    /// that joined the peer namespace. Connections complete in its backlog; nobody accepts.
    func listen() async throws -> (fd: Int32, port: UInt16) {
        try await Self.listen(on: peerAddress, in: peerPath)
    }

    /// A TCP listener on `address` (IPv4 or IPv6 text) inside the namespace at `path`.
    static func listen(on address: String, in path: String) async throws -> (fd: Int32, port: UInt16) {
        try await NetworkNamespace.perform(in: path) { () throws(MonitorError) -> (fd: Int32, port: UInt16) in
            let family = address.contains(":") ? AF_INET6 : AF_INET
            let fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            var storage = sockaddr_storage()
            var length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                if family == AF_INET6 {
                    raw.withMemoryRebound(to: sockaddr_in6.self) {
                        $0[0].sin6_family = sa_family_t(AF_INET6)
                        inet_pton(AF_INET6, address, &$0[0].sin6_addr)
                    }
                } else {
                    raw.withMemoryRebound(to: sockaddr_in.self) {
                        $0[0].sin_family = sa_family_t(AF_INET)
                        inet_pton(AF_INET, address, &$0[0].sin_addr)
                    }
                }
            }
            let bound = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard fd >= 0, bound, Glibc.listen(fd, 64) == 0 else {
                throw MonitorError(.netlink, "test listener on \(address) failed: errno \(errno)")
            }
            // sin_port and sin6_port both sit at offset 2.
            let port = withUnsafeBytes(of: &storage) { UInt16(bigEndian: $0.loadUnaligned(fromByteOffset: 2, as: UInt16.self)) }
            return (fd, port)
        }
    }

    /// A TCP connection from this process, made inside the agent namespace.
    func connectFromThisProcess(port: UInt16) async throws -> Int32 {
        let address = peerAddress
        return try await NetworkNamespace.perform(in: agentPath) { () throws(MonitorError) -> Int32 in
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            inet_pton(AF_INET, address, &socketAddress.sin_addr)
            let connected = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, connected == 0 else {
                throw MonitorError(.netlink, "test connection to \(address):\(port) failed: errno \(errno)")
            }
            return fd
        }
    }

    /// Another process in the agent namespace that connects to the peer and holds the
    /// connection for a few seconds (bash's /dev/tcp, so no extra package is needed).
    func foreignClient(port: UInt16, holdSeconds: Int = 5) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ipTool ?? "/usr/sbin/ip")
        process.arguments = ["netns", "exec", agent, "bash", "-c", "exec 3<>/dev/tcp/\(peerAddress)/\(port); exec sleep \(holdSeconds)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

extension MonitorNetwork {
    /// Runs a bash script as another process in the agent namespace, to its end: how the
    /// tests play "another program" (bash's /dev/tcp and /dev/udp need no extra package).
    func foreignScript(_ script: String) throws {
        try Self.run(Self.ipTool ?? "/usr/sbin/ip", ["netns", "exec", agent, "bash", "-c", script])
    }

    /// A connection opened and closed at once by another process: under 100 ms in all.
    func shortForeignConnection(to address: String, port: UInt16) throws {
        try foreignScript("exec 3<>/dev/tcp/\(address)/\(port); exec 3>&-")
    }
}

struct NetworkSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Collects a monitor's events with their arrival time, so tests can wait and measure.
actor MonitorEventLog {
    private(set) var entries: [(event: MonitorEvent, at: ContinuousClock.Instant)] = []

    func append(_ event: MonitorEvent) {
        entries.append((event, .now))
    }

    /// Starts reading `events` into the log.
    nonisolated func record(_ events: AsyncStream<MonitorEvent>) -> Task<Void, Never> {
        Task {
            for await event in events { await self.append(event) }
        }
    }

    /// The first logged event (from index `after` on) matching `predicate`, waiting up to `timeout`.
    func wait(
        after: Int = 0, timeout: Duration = .seconds(10), _ predicate: (MonitorEvent) -> Bool
    ) async -> (event: MonitorEvent, at: ContinuousClock.Instant)? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let found = entries.dropFirst(after).first(where: { predicate($0.event) }) { return found }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}

extension CommunicationMonitor {
    /// Waits until the monitor has read the routing table once.
    func waitUntilReady(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.ready { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
