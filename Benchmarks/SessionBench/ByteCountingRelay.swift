import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on loopback that counts the bytes crossing it in each direction, so a
/// benchmark sees exactly what a session puts on the wire (TLS included).
final class ByteCountingRelay: Sendable {
    let counts = Mutex<(up: Int, down: Int)>((0, 0))
    let port: Int
    let channel: any Channel

    /// Starts relaying 127.0.0.1:(chosen port) → 127.0.0.1:`target`.
    static func start(target: Int) async throws -> ByteCountingRelay {
        let box = Mutex<ByteCountingRelay?>(nil)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .childChannelInitializer { inbound in
                let counter = box.withLock { $0 }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: target)
                    .flatMap { outbound in
                        let (toServer, toClient) = Glue.pair(counter: counter)
                        return inbound.pipeline.addHandler(toServer).flatMap {
                            outbound.pipeline.addHandler(toClient)
                        }
                    }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        let relay = ByteCountingRelay(port: channel.localAddress?.port ?? 0, channel: channel)
        box.withLock { $0 = relay }
        return relay
    }

    init(port: Int, channel: any Channel) {
        self.port = port
        self.channel = channel
    }

    /// Bytes since the last reset: (client → server, server → client).
    func take() -> (up: Int, down: Int) {
        counts.withLock { value in
            defer { value = (0, 0) }
            return value
        }
    }

    func add(up: Int = 0, down: Int = 0) {
        counts.withLock { $0.up += up; $0.down += down }
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Joins two channels: whatever one reads, the other writes (and counts).
final class Glue: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var partner: Glue?
    var context: ChannelHandlerContext?
    let upstream: Bool
    let counter: ByteCountingRelay?

    init(upstream: Bool, counter: ByteCountingRelay?) {
        self.upstream = upstream
        self.counter = counter
    }

    static func pair(counter: ByteCountingRelay?) -> (Glue, Glue) {
        let a = Glue(upstream: true, counter: counter)
        let b = Glue(upstream: false, counter: counter)
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil; partner = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if upstream { counter?.add(up: buffer.readableBytes) } else { counter?.add(down: buffer.readableBytes) }
        partner?.write(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) { partner?.flush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.close() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    func close() { context?.close(promise: nil) }
}
