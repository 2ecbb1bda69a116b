import ArgumentParser
import Foundation
import Logging
import PiggybackAgent
#if canImport(Glibc)
import Glibc
#endif

/// The communication monitor against the real kernel, in a network namespace pair made for
/// the run (root): trigger latency, foreign-traffic latency, idle cost offline and online.
struct MonitorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Measure the communication monitor: route → .online latency, connection → .foreignTraffic latency, idle CPU and wake-ups (root)."
    )

    @Option(help: "Route add/delete cycles timed.") var runs = 50
    @Option(help: "Foreign connections timed.") var connections = 10
    @Option(help: "Seconds of each idle measurement (offline, then online).") var idleSeconds = 60
    @Option(help: "Foreign-traffic poll interval in milliseconds.") var intervalMilliseconds = 1000

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("the monitor benchmark needs root (network namespaces)") }
        let net = try BenchNetwork.create()
        defer { net.destroy() }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let monitor = CommunicationMonitor(
            configuration: MonitorConfiguration(foreignTrafficInterval: .milliseconds(intervalMilliseconds), networkNamespace: net.agentPath),
            logger: logger
        )
        let log = BenchEventLog()
        let recording = Task { for await event in monitor.events { await log.append(event) } }
        let running = Task { try await monitor.run() }
        defer { running.cancel(); recording.cancel() }
        while await !monitor.state.ready { try await Task.sleep(for: .milliseconds(10)) }

        // Idle offline: the link is down, nothing should wake up.
        let offline = try await idle(monitor)
        try net.ip("-n", net.agent, "link", "set", net.link, "up")

        // Trigger latency: spawning `ip` is part of it; its bare cost is measured alongside.
        var spawn: [Double] = [], up: [Double] = [], down: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<runs {
            var start = clock.now
            try net.ip("-n", net.agent, "route", "show")
            spawn.append(SessionBench.milliseconds(clock.now - start))
            start = clock.now
            try net.ip("-n", net.agent, "route", "add", "default", "via", net.peerAddress)
            up.append(SessionBench.milliseconds(try await log.next { $0 == .online(interface: net.link) } - start))
            start = clock.now
            try net.ip("-n", net.agent, "route", "del", "default")
            down.append(SessionBench.milliseconds(try await log.next { $0 == .offline } - start))
        }
        try net.ip("-n", net.agent, "route", "add", "default", "via", net.peerAddress)
        _ = try await log.next { $0 == .online(interface: net.link) }

        // Foreign traffic: a listener in the peer namespace, bash /dev/tcp clients in the agent's.
        let listener = try net.startListener()
        defer { kill(listener.processIdentifier, SIGKILL); listener.waitUntilExit() }
        try await Task.sleep(for: .milliseconds(500))
        var foreign: [Double] = []
        for _ in 0..<connections {
            let start = clock.now
            let client = try net.client(port: BenchNetwork.listenPort)
            foreign.append(SessionBench.milliseconds(try await log.next { if case .foreignTraffic = $0 { true } else { false } } - start))
            kill(client.processIdentifier, SIGKILL)  // SIGTERM may be inherited as ignored
            client.waitUntilExit()
            try await Task.sleep(for: .milliseconds(Int.random(in: 0..<intervalMilliseconds)))  // land anywhere in the poll cycle
        }
        let online = try await idle(monitor)

        print("""
            ## Communication monitor (issue 3): \(runs) route cycles, \(connections) foreign connections, poll interval \(intervalMilliseconds) ms

            | measurement | median ms | p95 ms |
            |---|---|---|
            | `ip route add default` → `.online` | \(SessionBench.format(SessionBench.median(up))) | \(SessionBench.format(Self.p95(up))) |
            | `ip route del default` → `.offline` | \(SessionBench.format(SessionBench.median(down))) | \(SessionBench.format(Self.p95(down))) |
            | spawning `ip` alone (included above) | \(SessionBench.format(SessionBench.median(spawn))) | \(SessionBench.format(Self.p95(spawn))) |
            | other process connects → `.foreignTraffic` (incl. spawning `ip netns exec bash`) | \(SessionBench.format(SessionBench.median(foreign))) | \(SessionBench.format(Self.p95(foreign))) |

            | idle \(idleSeconds) s | CPU s (whole process) | context switches (whole process) | polls | TCP table reads | RSS |
            |---|---|---|---|---|---|
            | offline | \(SessionBench.format(offline.cpu)) | \(offline.switches) | \(offline.polls) | \(offline.scans) | \(offline.rssKiB / 1024) MiB |
            | online, no traffic | \(SessionBench.format(online.cpu)) | \(online.switches) | \(online.polls) | \(online.scans) | \(online.rssKiB / 1024) MiB |
            """)
    }

    /// CPU seconds, context switches and poll count of the whole process over `idleSeconds`.
    func idle(_ monitor: CommunicationMonitor) async throws -> (cpu: Double, switches: Int, polls: Int, scans: Int, rssKiB: Int) {
        let start = await monitor.state
        let before = Self.usage()
        try await Task.sleep(for: .seconds(idleSeconds))
        let after = Self.usage()
        let end = await monitor.state
        return (after.cpu - before.cpu, after.switches - before.switches,
                end.foreignTrafficPolls - start.foreignTrafficPolls, end.foreignTrafficScans - start.foreignTrafficScans, Self.rssKiB())
    }

    static func usage() -> (cpu: Double, switches: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return (cpu, usage.ru_nvcsw + usage.ru_nivcsw)
    }

    static func rssKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        return line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
    }

    static func p95(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)]
    }
}

/// Events with arrival times; `next` consumes them in order.
actor BenchEventLog {
    private var pending: [(MonitorEvent, ContinuousClock.Instant)] = []

    func append(_ event: MonitorEvent) { pending.append((event, .now)) }

    /// The arrival time of the next event matching `predicate` (earlier ones are dropped).
    func next(timeout: Duration = .seconds(10), _ predicate: (MonitorEvent) -> Bool) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let index = pending.firstIndex(where: { predicate($0.0) }) {
                let found = pending[index].1
                pending.removeFirst(index + 1)
                return found
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw ValidationError("the monitor reported nothing within \(timeout)")
    }
}

/// A namespace pair joined by veth, as the monitor tests make it.
struct BenchNetwork {
    static let listenPort = 18_080
    let agent: String, peer: String, link: String, peerLink: String
    let peerAddress = "10.250.77.2"
    var agentPath: String { "/var/run/netns/\(agent)" }

    static func create() throws -> BenchNetwork {
        let suffix = String(UInt32.random(in: 0..<0xFF_FFFF), radix: 16)
        let net = BenchNetwork(agent: "pbbench-a-\(suffix)", peer: "pbbench-p-\(suffix)", link: "pbba\(suffix)", peerLink: "pbbp\(suffix)")
        do {
            try net.ip("netns", "add", net.agent)
            try net.ip("netns", "add", net.peer)
            try net.ip("link", "add", net.link, "type", "veth", "peer", "name", net.peerLink)
            try net.ip("link", "set", net.link, "netns", net.agent)
            try net.ip("link", "set", net.peerLink, "netns", net.peer)
            try net.ip("-n", net.agent, "addr", "add", "10.250.77.1/24", "dev", net.link)
            try net.ip("-n", net.peer, "addr", "add", "\(net.peerAddress)/24", "dev", net.peerLink)
            try net.ip("-n", net.peer, "link", "set", net.peerLink, "up")
        } catch {
            net.destroy()
            throw error
        }
        return net
    }

    func destroy() {
        _ = try? ip("netns", "del", agent)
        _ = try? ip("netns", "del", peer)
    }

    func ip(_ arguments: String...) throws {
        let (_, status) = try InventoryBench.run("/usr/sbin/ip", arguments)
        guard status == 0 else { throw ValidationError("ip \(arguments.joined(separator: " ")) failed") }
    }

    /// A listener in the peer namespace: bash cannot listen, so python3's http.server or socat.
    func startListener() throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", peer, "python3", "-m", "http.server", "--bind", peerAddress, "\(Self.listenPort)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func client(port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", agent, "bash", "-c", "exec 3<>/dev/tcp/\(peerAddress)/\(port); exec sleep 5"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}
