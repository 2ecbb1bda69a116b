import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import PiggybackProtocol

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
        let webSocket = WebSocketServerConfiguration(maxFrameSize: limit * 2, autoPing: .enabled(timePeriod: .seconds(30)))
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

    /// Runs one session over an upgraded WebSocket.
    static func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: ServerContext, remote: String) async throws {
        var session = AgentSession(context: context, remoteAddress: remote)
        var assembler = FrameAssembler(maxFrameSize: context.configuration.maxFrameSize)
        var closing = false
        for try await fragment in inbound {
            // After 1050/1090 the server has said its last word; it waits for the agent's
            // close frame (bounded by the WebSocket close timeout) and ignores anything else.
            if closing { continue }
            let outcome: AgentSession.Outcome
            do {
                guard
                    let frame = try assembler.append(
                        fragment.data.readableBytesView,
                        isText: fragment.opcode == .text,
                        isContinuation: fragment.opcode == .continuation,
                        fin: fragment.fin
                    )
                else { continue }
                outcome = await session.receive(frame: frame)
            } catch {
                outcome = session.refuse(error)
            }
            for reply in outcome.replies {
                let frame = try session.codec.encode(reply)
                try await outbound.write(.binary(ByteBuffer(bytes: frame)))
            }
            if outcome.close {
                closing = true
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }
}
