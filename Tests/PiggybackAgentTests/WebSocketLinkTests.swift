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

    @Test(.timeLimit(.minutes(1))) func pingsAreAnsweredDataFlowsAndTheServersCloseIsEchoed() async throws {
        let log = Log()
        let upgrader = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ScriptedPeer(log: log)) }
            }
        )
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)

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
        // The server's event loop reads the echoed close a moment after the client is done.
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while log.frames.withLock({ $0.count }) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let frames = log.frames.withLock { $0 }
        #expect(frames.map(\.opcode) == [.pong, .binary, .connectionClose])
        #expect(frames.first?.data == Array("p1".utf8), "the pong carries the ping's data")
        #expect(frames.dropFirst().first?.data == Array("back".utf8))
        #expect(frames.last?.data == [0x03, 0xe8], "the close echoes status 1000")
        #expect(frames.allSatisfy { $0.masked }, "every client frame is masked")
        try await server.close()
    }
}
