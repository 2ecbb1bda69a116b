import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import PiggybackProtocol
import Synchronization

/// The agents' endpoint: `wss://HOST:PORT/v1/session`, one WebSocket per session, one
/// binary message per telex.
enum AgentEndpoint {
    /// The path agents connect to.
    static let path = "/v1/session"

    /// Builds the TLS WebSocket application; `onBound` learns the port actually bound.
    static func application(context: ServerContext, onBound: @escaping @Sendable (Int) async -> Void) throws -> some ApplicationProtocol {
        let router = Router()
        router.get("/v1/health") { _, _ in "ok" }
        let limit = context.configuration.maxFrameSize
        // Fragments up to twice the telex limit reach the assembler, which answers an
        // oversized telex with 1090; anything larger is cut off by the WebSocket layer.
        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: limit * 2,
            extensions: [.nonNegotiatedExtension { WordUnmasking() }],
            autoPing: .enabled(timePeriod: .seconds(30))
        )
        return Application(
            router: router,
            server: try .tls(
                .http1WebSocketUpgrade(configuration: .init(ws: webSocket)) { request, channel, _ in
                    guard request.path?.split(separator: "?").first.map(String.init) == path else { return .dontUpgrade }
                    let remote = channel.remoteAddress?.ipAddress ?? "unknown"
                    return .upgrade([:]) { inbound, outbound, _ in
                        try await serve(inbound: inbound, outbound: outbound, context: context, remote: remote)
                    }
                },
                tlsConfiguration: context.authority.serverTLSConfiguration()
            ),
            configuration: .init(
                address: .hostname(context.configuration.listenHost, port: context.configuration.listenPort),
                serverName: "piggyback"
            ),
            onServerRunning: { channel in await onBound(channel.localAddress?.port ?? 0) },
            logger: context.logger
        )
    }

    /// Runs one session over an upgraded WebSocket; a peer that has not authenticated within
    /// the configured time gets 1090 and is closed, so idle connections cannot pile up.
    static func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: ServerContext, remote: String) async throws {
        let authenticated = Flag()
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await converse(inbound: inbound, outbound: outbound, context: context, remote: remote, authenticated: authenticated)
                return true
            }
            group.addTask {
                try await Task.sleep(for: context.configuration.authenticationTimeout)
                guard !authenticated.isSet else { return false }
                context.logger.notice("closing a connection that did not authenticate in time", metadata: ["peer": "\(remote)"])
                let error = TelexError(.authDenied, "no accepted 20 within \(context.configuration.authenticationTimeout); closing")
                if let frame = try? TelexCodec().encode(.serverError(error.wire)) {
                    try? await outbound.write(.binary(ByteBuffer(bytes: frame)))
                }
                try? await outbound.close(.policyViolation, reason: nil)
                return false
            }
            while let finished = try await group.next() {
                if finished {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// The telex loop of one session.
    static func converse(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: ServerContext, remote: String, authenticated: Flag
    ) async throws {
        var session = AgentSession(context: context, remoteAddress: remote)
        var assembler = FrameAssembler(maxFrameSize: context.configuration.maxFrameSize)
        var closing = false
        let metrics = context.metrics
        var outcome = "dropped"
        defer { metrics.sessionEnded(outcome: outcome) }
        for try await fragment in inbound {
            // After 1050/1090 the server has said its last word; it waits for the agent's
            // close frame (bounded by the WebSocket close timeout) and ignores anything else.
            if closing { continue }
            let result: AgentSession.Outcome
            do {
                guard
                    let frame = try assembler.append(
                        fragment.data.readableBytesView,
                        isText: fragment.opcode == .text,
                        isContinuation: fragment.opcode == .continuation,
                        fin: fragment.fin
                    )
                else { continue }
                metrics.received(code: TelexCodec.peekCode(frame))
                if TelexCodec.peekCode(frame) == TelexCode.terminalError.rawValue { outcome = "agent_error" }
                result = await session.receive(frame: frame)
                if session.device != nil { authenticated.set() }
            } catch {
                result = session.refuse(error)
            }
            for reply in result.replies {
                let frame = try session.codec.encode(reply)
                try await outbound.write(.binary(ByteBuffer(bytes: frame)))
                metrics.sent(code: reply.code.rawValue)
                if reply.code == .endAck { outcome = "ok" }
                if reply.code == .serverError { outcome = "refused" }
            }
            for frame in result.frames {
                try await outbound.write(.binary(frame))
                metrics.sent(code: TelexCode.delivery.rawValue)
                let bytes = frame.withUnsafeReadableBytes { ChunkFrame.parse($0, code: .delivery)?.data.count ?? 0 }
                metrics.add(ServerMetrics.Name.deliveredBytes, bytes)
            }
            if result.close {
                closing = true
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }
}

/// A flag one task sets and another reads (the session loop and its authentication timer).
final class Flag: Sendable {
    private let state = Mutex(false)

    var isSet: Bool { state.withLock { $0 } }

    func set() { state.withLock { $0 = true } }
}
