import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
@testable import PiggybackAgent
import Synchronization
import Testing

/// The agent's own WebSocket link against a scripted NIO WebSocket server (plain TCP on
/// loopback): pings are answered with the same data, data frames pass both ways masked, and
/// the server's close is echoed and ends the stream.
@Suite struct WebSocketLinkTests {
    /// What the server saw from the client: opcode, unmasked payload, whether it was masked.
    typealias Seen = (opcode: WebSocketOpcode, data: [UInt8], masked: Bool)

    /// The frames the server saw, shared with its handler.
    final class Log: Sendable {
        let frames = Mutex<[Seen]>([])
    }

    /// Server side of the script: ping "p1"; on the pong, a binary "hello"; on the client's
    /// binary, a close 1000; on the client's close, done.
    final class ScriptedPeer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let log: Log

        init(log: Log) { self.log = log }

        func handlerAdded(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "p1"))), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            log.frames.withLock { $0.append((frame.opcode, Array(frame.unmaskedData.readableBytesView), frame.maskKey != nil)) }
            switch frame.opcode {
            case .pong:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(string: "hello"))), promise: nil)
            case .binary:
                var code = ByteBuffer()
                code.writeInteger(UInt16(1000))
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)), promise: nil)
            case .connectionClose:
                context.close(promise: nil)
            default:
                break
            }
        }
    }

    /// A server that only records what the client sends and never closes by itself.
    final class SilentPeer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = WebSocketFrame
        let log: Log

        init(log: Log) { self.log = log }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            log.frames.withLock { $0.append((frame.opcode, Array(frame.unmaskedData.readableBytesView), frame.maskKey != nil)) }
        }
    }

    /// A plain-TCP WebSocket server on loopback whose connections get the handler `peer` makes.
    static func server(_ peer: @escaping @Sendable () -> any ChannelHandler & Sendable) async throws -> (any Channel, Int) {
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(peer()) }
            }
        )
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (server, try #require(server.localAddress?.port))
    }

    /// Waits (up to 10 s) until the server has seen `count` frames; the server's event loop
    /// reads the client's last frame a moment after the client is done.
    static func frames(_ log: Log, count: Int) async throws -> [Seen] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while log.frames.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return log.frames.withLock { $0 }
    }

    @Test(.timeLimit(.minutes(1))) func pingsAreAnsweredDataFlowsAndTheServersCloseIsEchoed() async throws {
        let log = Log()
        let (server, port) = try await Self.server { ScriptedPeer(log: log) }

        let (greeting, ended) = try await WebSocketLink.run(
            host: "127.0.0.1", port: port, path: "/v1/session", serverName: nil, tls: nil, maxFrameSize: 1 << 16
        ) { link in
            var link = link
            let greeting = try await link.next()
            try await link.send(ByteBuffer(string: "back"))
            let ended = try await link.next() == nil
            return (greeting.map { String(buffer: $0.data) }, ended)
        }
        #expect(greeting == "hello")
        #expect(ended)
        let frames = try await Self.frames(log, count: 3)
        #expect(frames.map(\.opcode) == [.pong, .binary, .connectionClose])
        #expect(frames.first?.data == Array("p1".utf8), "the pong carries the ping's data")
        #expect(frames.dropFirst().first?.data == Array("back".utf8))
        #expect(frames.last?.data == [0x03, 0xe8], "the close echoes status 1000")
        #expect(frames.allSatisfy { $0.masked }, "every client frame is masked")
        try await server.close()
    }

    @Test(.timeLimit(.minutes(1))) func closingWaitsForTheServerOnlyUpToTheDeadline() async throws {
        let log = Log()
        let (server, port) = try await Self.server { SilentPeer(log: log) }
        let started = ContinuousClock.now
        try await WebSocketLink.run(
            host: "127.0.0.1", port: port, path: "/v1/session", serverName: nil, tls: nil, maxFrameSize: 1 << 16
        ) { link in
            var link = link
            await link.close(code: 1011, wait: .milliseconds(300))
            // A second close sends nothing more and, the deadline being the only way out, waits again.
            await link.close(wait: .milliseconds(50))
        }
        #expect(started.duration(to: .now) >= .milliseconds(350), "the server never closed, so the link waited")
        let frames = try await Self.frames(log, count: 1)
        #expect(frames.map(\.opcode) == [.connectionClose])
        #expect(frames.first?.data == [0x03, 0xf3], "status 1011: the session broke off")
        try await server.close()
    }
}
