import Foundation
import Logging
import PiggybackProtocol

/// The terminal's side of one management session, in the order of Fig. 4:
/// 10 → 1010 → 20 → 1020 → [60] → 30 → 1030 offer → (70 ↔ 1030)* → 40 → 1040 →
/// (50 ↔ 1070)* → 80 → 1050.
struct ManagementSession {
    let configuration: AgentConfiguration
    let identity: DeviceIdentity
    let enrollment: EnrollmentState
    let registry: AgentRegistry
    let logger: Logger
    var channel: TelexChannel
    /// Limits from the conditions at trigger time (metered link, low battery).
    var policy = SessionPolicy()
    /// The daemon's position provider (nil for a one-shot agent).
    var positions: PositionProvider?
    var report = SessionReport()
    /// Install results carried by this session's 30; marked reported once the session ends well.
    var reportedInstalls: [String] = []
    /// Asks the user when the consent policy is `ask` (the daemon's broker answers on the control socket).
    var consent: ConsentBroker?
    var chunkSize = 256 * 1024
    var window = 8
    /// Paces this session's transfers (created with the session, sampling only during transfers).
    var throttle: TransferThrottle<ContinuousClock>?
    /// Progress of the running transfers, shared with `agent status` and the progress bar.
    var board: TransferBoard?
    /// The server's TCP port, to find the session's socket for TCP_INFO.
    var serverPort: Int?
    /// The throttle reason last written to the trace.
    var tracedRateReason: RateDecision.Reason?

    mutating func run() async throws -> SessionReport {
        var discover = WireDiscover()
        discover.deviceID = identity.deviceID
        discover.protocolMin = ProtocolVersion.supported.lowerBound
        discover.protocolMax = ProtocolVersion.supported.upperBound
        try await channel.send(.discover(discover))
        guard case .serverAddress(let server) = try await channel.receive() else { throw unexpected() }
        report.serverID = server.serverID

        try await channel.send(.authenticate(try authenticate(server)))
        guard case .authResult(let result) = try await channel.receive() else { throw unexpected() }
        guard result.accepted else { throw AgentError(.refused, "the server did not accept this terminal") }
        // The server proposes; the terminal bounds what it will buffer.
        if result.chunkSize > 0 { chunkSize = min(Int(result.chunkSize), configuration.maxFrameSize - 4096) }
        if result.window > 0 { window = min(Int(result.window), 64) }

        if let position = await position() { try await channel.send(.position(position)) }
        var upload = try await inventory(serverVersion: result.inventoryVersion, request: result.inventory)
        let results = try await registry.installs(unreportedOnly: true).filter { $0.state != "downloaded" }.prefix(1000)
        upload.installs = results.map(\.report)
        reportedInstalls = results.map(\.itemID)
        try await channel.send(.inventory(upload))

        var next = try await channel.receive()
        if case .positionRequest = next {
            var unknown = WirePosition()
            unknown.unknown = true
            try await channel.send(.position(await position() ?? unknown))
            next = try await channel.receive()
        }
        guard case .delivery(let first) = next, case .offer(let offer)? = first.body else { throw unexpected() }
        report.offered = offer.items.map { "\($0.name)@\($0.version)" }

        let verifier = try PackageVerifier.pinned(offered: result.packageSigningKey, serverID: server.serverID, directory: configuration.dataDirectory)
        let (verified, refused) = try await verify(offer, with: verifier)
        if !verified.isEmpty, let why = await userDefers(verified.map(\.item)) {
            report.deferred = verified.map { "\($0.item.name)@\($0.item.version)" }
            var end = WireEnd()
            end.reason = .rejectDelivery
            end.detail = why
            try await channel.send(.end(end))
            guard case .endAck = try await channel.receive() else { throw unexpected() }
            return finish()
        }
        try await download(verified, refused: refused)

        try await channel.send(.deliveryFinished(WireDeliveryFinished()))
        var instruction: WireCollectInstruction?
        while instruction == nil {
            switch try await channel.receive() {
            case .collectInstruction(let received): instruction = received
            case .delivery: continue  // chunks already in flight for an item given up on
            default: throw unexpected()
            }
        }
        if let instruction { try await collect(instruction) }

        try await channel.send(.end(WireEnd()))
        guard case .endAck = try await channel.receive() else { throw unexpected() }
        try await registry.markReported(reportedInstalls)
        return finish()
    }

    mutating func finish() -> SessionReport {
        report.bytesSent = channel.bytesSent
        report.bytesReceived = channel.bytesReceived
        return report
    }

    func authenticate(_ server: WireServerAddress) throws -> WireAuthenticate {
        var auth = WireAuthenticate()
        auth.deviceID = identity.deviceID
        auth.protocolMin = ProtocolVersion.supported.lowerBound
        auth.protocolMax = ProtocolVersion.supported.upperBound
        auth.agentVersion = AgentVersion.current
        auth.signature = Data(try identity.sign(challenge: Array(server.challenge), serverID: server.serverID))
        if let secret = enrollment.secret {
            var enroll = WireEnrollment()
            enroll.tokenSecret = secret
            enroll.publicKey = Data(identity.publicKey)
            enroll.hostname = ProcessInfo.processInfo.hostName
            auth.enrollment = enroll
        }
        return auth
    }

    /// The best fresh position: from the daemon's running provider, or read once (gpsd for
    /// a few seconds at most) by a one-shot agent; nil when no source knows one.
    func position() async -> WirePosition? {
        if let positions { return await positions.best()?.wire }
        guard configuration.hasPositionSource else { return nil }
        do {
            return try await PositionProvider.oneShot(configuration: configuration.effectivePositioning, timeout: .seconds(3), logger: logger)?.wire
        } catch {
            logger.warning("no position: \(error)")
            return nil
        }
    }

    /// Reports a telex the sequence allowed but this step cannot use, and fails.
    func unexpected() -> AgentError {
        AgentError(.refused, "the server sent an unexpected telex after \(channel.sequence.last.map(String.init(describing:)) ?? "nothing")")
    }
}

/// The agent's own version, reported in 20.
public enum AgentVersion {
    /// The version string of this build.
    public static let current = "0.1.0"
}
