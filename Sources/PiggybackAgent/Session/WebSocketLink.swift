import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// One session's WebSocket to the server, as the telex layer needs it: data fragments in,
/// binary frames out, pings answered, the closing handshake done.
///
/// Built on NIO's upgrade machinery and frame decoder with our masking encoder (see
/// ``MaskingFrameEncoder``); it replaces a general WebSocket client whose masking dominated
/// the agent's CPU on uploads.
struct WebSocketLink {
    /// A data frame (or fragment of one) as received.
    struct Fragment: Sendable {
        var opcode: WebSocketOpcode
        var fin: Bool
        var data: ByteBuffer
    }

    private var frames: NIOAsyncChannelInboundStream<WebSocketFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    /// The underlying channel (for its close future).
    let channel: any Channel
    private var closeSent = false

    init(inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, channel: any Channel) {
        self.frames = inbound.makeAsyncIterator()
        self.outbound = outbound
        self.channel = channel
    }

    /// Connects over TLS, upgrades `path` to a WebSocket, runs `body` with the link and closes
    /// the connection afterwards, whatever happened. (`tls` nil: plain TCP, for tests only;
    /// an agent's endpoints are always `wss://`.)
    static func run<Value: Sendable>(
        host: String, port: Int, path: String, serverName: String?, tls: TLSConfiguration?, maxFrameSize: Int,
        body: (WebSocketLink) async throws -> Value
    ) async throws -> Value {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let context {
                        try operations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: hostHeader)
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                    let upgrade = NIOTypedHTTPClientUpgradeConfiguration<WebSocketUpgrader.Result>(
                        upgradeRequestHead: head,
                        upgraders: [WebSocketUpgrader(maxFrameSize: maxFrameSize)],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) }
                    )
                    var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgrade)
                    configuration.leftOverBytesStrategy = .forwardBytes
                    return try operations.configureUpgradableHTTPClientPipeline(configuration: configuration)
                }
            }
        guard case .upgraded(let channel) = try await upgrade.get() else {
            throw AgentError(.unreachable, "\(host):\(port) did not accept a WebSocket on \(path)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(WebSocketLink(inbound: inbound, outbound: outbound, channel: channel.channel))
        }
    }

    /// The next data fragment, or nil once the server closed; pings are answered on the way.
    mutating func next() async throws -> Fragment? {
        while let frame = try await frames.next() {
            switch frame.opcode {
            case .binary, .text, .continuation:
                return Fragment(opcode: frame.opcode, fin: frame.fin, data: frame.unmaskedData)
            case .ping:
                try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
            case .pong:
                continue
            case .connectionClose:
                // Echo the status code, as RFC 6455 section 5.5.1 asks, then the stream ends.
                if !closeSent {
                    closeSent = true
                    var data = frame.unmaskedData
                    let code = data.readSlice(length: min(2, data.readableBytes)) ?? ByteBuffer()
                    try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
                }
                return nil
            default:
                throw AgentError(.refused, "the server sent a WebSocket frame with the reserved opcode \(frame.opcode)")
            }
        }
        return nil
    }

    /// Sends one binary frame (one telex).
    func send(_ data: ByteBuffer) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: data))
    }

    /// The closing handshake: our close frame with `code` (1000 after a finished session,
    /// 1011 after a failed one), then up to `wait` for the server to close the connection.
    /// Returns at once when the connection is gone already.
    mutating func close(code: UInt16 = 1000, wait: Duration = .seconds(2)) async {
        if !closeSent {
            closeSent = true
            var data = ByteBuffer()
            data.writeInteger(code)
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
        }
        let channel = self.channel
        let waiter = Waiter()
        await withCheckedContinuation { continuation in
            waiter.set(continuation)
            let nanoseconds = wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000
            let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { waiter.resume() }
            channel.closeFuture.whenComplete { _ in
                timer.cancel()
                waiter.resume()
            }
        }
    }

    /// A continuation resumed by whichever comes first, the close or the deadline.
    private final class Waiter: Sendable {
        private let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func set(_ continuation: CheckedContinuation<Void, Never>) { self.continuation.withLock { $0 = continuation } }

        func resume() { continuation.withLock { $0.take() }?.resume() }
    }
}
