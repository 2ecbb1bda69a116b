import Foundation
import Logging
import NIOCore
import NIOSSL
import PiggybackProtocol
import Synchronization

/// The terminal agent: enrollment and management sessions.
///
/// ``runSession()`` runs exactly one session now against the first server that answers;
/// the resident daemon (triggers, monitor) builds on it.
public struct Agent: Sendable {
    /// The agent's configuration.
    public let configuration: AgentConfiguration
    let logger: Logger
    let trace: SessionTrace
    /// The resident daemon's running position sources; a one-shot agent reads them per session.
    public let positions: PositionProvider?
    /// Finds the servers to try; keeps their backoff for the agent's lifetime.
    public let locator: ServerLocator
    /// The daemon's open consent question, answered over the control socket (`ask` policy).
    public let consent: ConsentBroker?
    /// The running session's transfers and their throttle, for `status` and progress bars.
    public let transfers = TransferBoard()

    /// Creates an agent; `trace` receives one line per telex when set.
    public init(
        configuration: AgentConfiguration, logger: Logger, trace: (@Sendable (String) -> Void)? = nil, positions: PositionProvider? = nil,
        consent: ConsentBroker? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.trace = SessionTrace(trace)
        self.positions = positions
        self.consent = consent
        self.locator = ServerLocator(configuration: configuration.discovery, logger: logger, trace: trace)
    }

    /// Creates the device identity (if none) and stores the token; the first session then
    /// registers the terminal with the server. Returns the device id.
    @discardableResult
    public func enroll(token text: String) throws -> String {
        let token = try EnrollmentToken(parsing: text)
        let directory = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AgentError(.storage, "cannot create the data directory \(directory.path): \(error)")
        }
        let identity = try DeviceIdentity.load(from: directory) ?? DeviceIdentity.create(in: directory)
        if let previous = try EnrollmentState.load(from: directory), previous.ca_sha256 != token.caFingerprint {
            try? FileManager.default.removeItem(at: ServerPin.url(in: directory))
        }
        // A new enrollment trusts the package-signing key its server presents next.
        try? FileManager.default.removeItem(at: PackageVerifier.url(in: directory))
        try EnrollmentState(servers: token.servers, ca_sha256: token.caFingerprint, secret: token.secret, enrolled_at: nil).save(in: directory)
        logger.info("enrollment prepared", metadata: ["device": "\(identity.deviceID)"])
        return identity.deviceID
    }

    /// The device id, or nil before enrollment.
    public func deviceID() throws -> String? {
        try DeviceIdentity.load(from: configuration.dataDirectory)?.deviceID
    }

    /// Runs one management session with the first server (in list order) that answers,
    /// within the limits of `policy` (from the conditions at trigger time).
    public func runSession(policy: SessionPolicy = SessionPolicy()) async throws -> SessionReport {
        let directory = configuration.dataDirectory
        guard let identity = try DeviceIdentity.load(from: directory), var enrollment = try EnrollmentState.load(from: directory) else {
            throw AgentError(.notEnrolled, "this terminal is not enrolled; run `piggyback agent --data \(directory.path) --enroll TOKEN`")
        }
        let configured = try (configuration.servers.isEmpty ? enrollment.servers : configuration.servers).map(Candidate.init(parsing:))
        guard !configured.isEmpty || configuration.discovery.methods.contains(.broadcast) else {
            throw AgentError(.notEnrolled, "no server known; give --server wss://HOST:PORT/v1/session or enable --discovery broadcast")
        }
        let registry = try await AgentRegistry.open(directory: directory, logger: logger)
        do {
            var report = try await firstAnswering(configured, identity: identity, enrollment: &enrollment, registry: registry, policy: policy)
            report.installed = await installPending(registry: registry)
            await registry.close()
            return report
        } catch {
            // What did arrive before a failure is installed all the same; not when the
            // session was cancelled (shutdown), which must end promptly.
            if !Task.isCancelled { _ = await installPending(registry: registry) }
            await registry.close()
            throw error
        }
    }

    /// Where the terminal is, for the nearest-server method.
    func currentLocation() async -> (lat: Double, lon: Double)? {
        if let fix = await positions?.best() { return (fix.lat, fix.lon) }
        return configuration.position.map { ($0.lat, $0.lon) }
    }

    /// Tries the servers the locator finds, in its order; one that cannot be reached or is
    /// not trusted (a rogue discovery answer) passes the turn to the next and backs off.
    func firstAnswering(
        _ configured: [Candidate], identity: DeviceIdentity, enrollment: inout EnrollmentState, registry: AgentRegistry, policy: SessionPolicy
    ) async throws -> SessionReport {
        var failures: [String] = []
        var untrusted: AgentError?
        for await server in locator.locate(configured: configured, position: await currentLocation()) {
            let endpoint = server.endpoint
            trace.note("server \(endpoint.url): \(server.reason)")
            do {
                var report = try await session(endpoint: endpoint, identity: identity, enrollment: enrollment, registry: registry, policy: policy)
                report.server = endpoint.url
                report.serverReason = server.reason
                await locator.recordSuccess(server)
                if enrollment.secret != nil {
                    enrollment.secret = nil
                    enrollment.enrolled_at = Date()
                    try enrollment.save(in: configuration.dataDirectory)
                    report.enrolled = true
                }
                try? await registry.recordSession(server: endpoint.url, result: "ok", bytesSent: report.bytesSent, bytesReceived: report.bytesReceived)
                return report
            } catch let error as AgentError where error.code == .unreachable || error.code == .untrustedServer {
                logger.notice("server failed, trying the next", metadata: ["server": "\(endpoint)", "error": "\(error.message)"])
                trace.note("\(endpoint): \(error.message)")
                failures.append("\(endpoint): \(error.message)")
                if error.code == .untrustedServer { untrusted = error }
                await locator.recordFailure(server)
            } catch {
                try? await registry.recordSession(server: endpoint.url, result: "\(error)", bytesSent: 0, bytesReceived: 0)
                throw error
            }
        }
        if let untrusted, failures.count == 1 { throw untrusted }
        throw AgentError(.unreachable, failures.isEmpty ? "no server found (\(configuration.discovery.methods.map(\.rawValue).joined(separator: ", ")))" : "no server answered: \(failures.joined(separator: "; "))")
    }

    func session(endpoint: Endpoint, identity: DeviceIdentity, enrollment: EnrollmentState, registry: AgentRegistry, policy: SessionPolicy) async throws -> SessionReport {
        let ca = try await ServerPin.certificate(directory: configuration.dataDirectory, fingerprint: enrollment.ca_sha256, endpoint: endpoint, logger: logger)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates([ca])
        var serverName: String? = endpoint.host
        if endpoint.isIPAddress {
            // No SNI for IP literals; the pinned CA (ours alone) still decides whom we trust.
            tls.certificateVerification = .noHostnameVerification
            serverName = nil
        }
        let name = serverName
        let tlsConfiguration = tls
        let outcome = Mutex<Result<SessionReport, any Error>?>(nil)
        let configuration = self.configuration
        let logger = self.logger
        let trace = self.trace
        let positions = self.positions
        let consent = self.consent
        let transfers = self.transfers
        let run: @Sendable () async throws -> Void = {
            // Fragments up to twice the telex limit reach the assembler, which answers an
            // oversized telex with 90; anything larger is cut off by the WebSocket layer.
            try await WebSocketLink.run(
                host: endpoint.host, port: endpoint.port, path: endpoint.requestPath, serverName: name, tls: tlsConfiguration,
                maxFrameSize: configuration.maxFrameSize * 2
            ) { link in
                var session = ManagementSession(
                    configuration: configuration, identity: identity, enrollment: enrollment, registry: registry, logger: logger,
                    channel: TelexChannel(link: link, maxFrameSize: configuration.maxFrameSize, trace: trace),
                    policy: policy, positions: positions
                )
                session.consent = consent
                session.board = transfers
                session.serverPort = endpoint.port
                do {
                    let report = try await session.run()
                    outcome.withLock { $0 = .success(report) }
                    await session.channel.link.close()
                } catch {
                    outcome.withLock { $0 = .failure(error) }
                    // Tell the server the session broke off (1011), rather than just dropping TCP.
                    await session.channel.link.close(code: 1011, wait: .milliseconds(500))
                }
            }
        }
        do {
            try await withTimeout(configuration.sessionTimeout, run)
        } catch let error as AgentError {
            throw error
        } catch {
            if let result = outcome.withLock({ $0 }) { return try result.get() }
            throw Self.classify(error, endpoint: endpoint)
        }
        guard let result = outcome.withLock({ $0 }) else {
            throw AgentError(.unreachable, "\(endpoint) closed the connection before the session began")
        }
        return try result.get()
    }

    /// Tells a certificate problem (untrusted server) from an unreachable one.
    static func classify(_ error: any Error, endpoint: Endpoint) -> AgentError {
        let text = String(describing: error)
        if error is NIOSSLError || text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("handshakeFailed") {
            return AgentError(.untrustedServer, "\(endpoint) presented a certificate not issued by the pinned CA: \(text)")
        }
        return AgentError(.unreachable, "cannot reach \(endpoint): \(text)")
    }
}

/// Runs `body`, cancelling it after `limit`.
func withTimeout(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: limit); return false }
        let finished = try await group.next() ?? false
        group.cancelAll()
        if !finished { throw AgentError(.timeout, "the session took longer than \(limit)") }
    }
}
