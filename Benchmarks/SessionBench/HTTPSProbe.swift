import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// A bare TLS client: the baseline a session is compared with (TLS connect + one HTTP
/// request/response), and the TLS-handshake-only byte measurement.
enum HTTPSProbe {
    /// Connects, completes the TLS handshake, and optionally sends `GET path` with
    /// `Connection: close`; returns when the server has closed (or, without a request,
    /// right after the handshake).
    static func run(port: Int, ca: NIOSSLCertificate, path: String?) async throws -> Int {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        tls.trustRoots = .certificates([ca])
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        let done = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Int.self)
        let request = path.map { "GET \($0) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(ProbeHandler(request: request, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let received = try await done.futureResult.get()
        try? await channel.closeFuture.get()
        return received
    }
}

final class ProbeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let request: String?
    let done: EventLoopPromise<Int>
    var received = 0

    init(request: String?, done: EventLoopPromise<Int>) {
        self.request = request
        self.done = done
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted else { return }
        if let request {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
        } else {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
