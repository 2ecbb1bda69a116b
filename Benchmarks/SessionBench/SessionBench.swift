import ArgumentParser
import Foundation
import Logging
import NIOSSL
import PiggybackAgent
import PiggybackServer
import ServiceLifecycle
import WSClient

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Bytes on the wire and wall time of a management session with nothing to deliver or
/// collect, against a baseline of TLS connect + one HTTP request on the same server.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "piggyback-bench",
        abstract: "Piggyback benchmarks (results in docs/BENCHMARKS.md).",
        subcommands: [SessionBench.self, InventoryBench.self, IngestBench.self, MonitorBench.self, RegionBench.self, LogBench.self],
        defaultSubcommand: SessionBench.self
    )
}

/// Bytes on the wire and wall time of an idle session against a TLS+HTTP baseline.
struct SessionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session",
        abstract: "Measure an idle management session: bytes on the wire and wall time against a TLS+HTTP baseline."
    )

    @Option(help: "Timed repetitions of each candidate.") var runs = 50

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try await ManagementServer(
            configuration: .init(dataDirectory: directory, listenHost: "127.0.0.1", listenPort: 0, adminHost: "127.0.0.1", adminPort: 0),
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: server.services, logger: logger))
        let serverTask = Task { try await group.run() }
        let ports = await server.ready()
        let ca = try NIOSSLCertificate(bytes: Array(server.authority.caPEM.utf8), format: .pem)
        let relay = try await ByteCountingRelay.start(target: ports.agent)

        let token = try await Self.enrollToken(adminPort: ports.admin, adminToken: server.adminToken.value)
        let agentDirectory = directory.appendingPathComponent("agent")
        let viaRelay = Agent(
            configuration: AgentConfiguration(dataDirectory: agentDirectory, servers: ["wss://127.0.0.1:\(relay.port)/v1/session"]),
            logger: logger
        )
        try viaRelay.enroll(token: token)
        _ = try await viaRelay.runSession()  // enrollment and CA pinning happen once, not measured
        _ = relay.take()

        // Bytes: handshake alone, handshake + WebSocket upgrade + close, whole session.
        var handshake: [Int] = []
        var upgrade: [Int] = []
        var session: [Int] = []
        var telex = 0
        for _ in 0..<5 {
            _ = try await HTTPSProbe.run(port: relay.port, ca: ca, path: nil)
            try await Task.sleep(for: .milliseconds(50))
            handshake.append(Self.total(relay.take()))
            try await Self.emptyWebSocket(port: relay.port, ca: ca, logger: logger)
            try await Task.sleep(for: .milliseconds(50))
            upgrade.append(Self.total(relay.take()))
            let report = try await viaRelay.runSession()
            try await Task.sleep(for: .milliseconds(50))
            session.append(Self.total(relay.take()))
            telex = report.bytesSent + report.bytesReceived
        }

        // Wall time, interleaved so both candidates see the same machine state.
        let direct = Agent(
            configuration: AgentConfiguration(dataDirectory: agentDirectory, servers: ["wss://127.0.0.1:\(ports.agent)/v1/session"]),
            logger: logger
        )
        var sessionTimes: [Double] = []
        var baselineTimes: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<runs {
            let t0 = clock.now
            _ = try await direct.runSession()
            sessionTimes.append(Self.milliseconds(clock.now - t0))
            let t1 = clock.now
            _ = try await HTTPSProbe.run(port: ports.agent, ca: ca, path: "/v1/health")
            baselineTimes.append(Self.milliseconds(clock.now - t1))
        }

        await relay.stop()
        await group.triggerGracefulShutdown()
        try await serverTask.value

        let h = Self.median(handshake.map(Double.init))
        let u = Self.median(upgrade.map(Double.init))
        let s = Self.median(session.map(Double.init))
        print("""
            ## Idle session (nothing to deliver or collect), loopback, TLS 1.3

            | part | bytes |
            |---|---|
            | TLS handshake + close (P-256 chain: server + CA) | \(Int(h)) |
            | WebSocket upgrade + close | \(Int(u - h)) |
            | telex exchange on the wire (WebSocket + TLS records) | \(Int(s - u)) |
            | of which telex frames (code + protobuf) | \(telex) |
            | **whole session** | **\(Int(s))** |

            | candidate | median ms | p95 ms |
            |---|---|---|
            | TLS connect + GET /v1/health (baseline) | \(Self.format(Self.median(baselineTimes))) | \(Self.format(Self.percentile(baselineTimes, 0.95))) |
            | management session (`Agent.runSession`) | \(Self.format(Self.median(sessionTimes))) | \(Self.format(Self.percentile(sessionTimes, 0.95))) |
            | **ratio session / baseline (medians)** | **\(Self.format(Self.median(sessionTimes) / Self.median(baselineTimes)))** | |

            runs: \(runs) each, interleaved
            """)
    }

    static func emptyWebSocket(port: Int, ca: NIOSSLCertificate, logger: Logger) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates([ca])
        tls.certificateVerification = .noHostnameVerification
        var ws = WebSocketClientConfiguration()
        ws.sniHostname = "piggyback.invalid"
        try await WebSocketClient.connect(url: "wss://127.0.0.1:\(port)/v1/session", configuration: ws, tlsConfiguration: tls, logger: logger) { _, _, _ in }
    }

    static func enrollToken(adminPort: Int, adminToken: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(adminPort)/v1/enroll-tokens")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(adminToken)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data("{}".utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        struct Answer: Decodable { var token: String }
        return try JSONDecoder().decode(Answer.self, from: data).token
    }

    static func total(_ counts: (up: Int, down: Int)) -> Int { counts.up + counts.down }
    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
    static func median(_ values: [Double]) -> Double { percentile(values, 0.5) }
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
