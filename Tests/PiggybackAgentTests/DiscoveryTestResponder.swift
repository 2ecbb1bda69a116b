import Foundation
import NIOCore
import NIOPosix
import PiggybackProtocol
import Synchronization

/// A plain UDP socket on 127.0.0.1 standing in for a discovery responder: it answers each
/// datagram with whatever `reply` returns (after an optional delay) and counts what it got.
final class DiscoveryTestResponder: Sendable {
    let channel: any Channel
    let received: Received

    /// Requests seen so far, shared with the handler.
    final class Received: Sendable {
        let storage = Mutex<[[UInt8]]>([])
        func append(_ bytes: [UInt8]) { storage.withLock { $0.append(bytes) } }
        var all: [[UInt8]] { storage.withLock { $0 } }
    }

    var port: Int { channel.localAddress?.port ?? 0 }
    var target: String { "127.0.0.1:\(port)" }
    var requests: [[UInt8]] { received.all }

    /// Starts a responder; `reply` maps a request to the datagrams sent back.
    static func start(delay: Duration = .zero, reply: @escaping @Sendable ([UInt8]) -> [[UInt8]]) async throws -> DiscoveryTestResponder {
        let received = Received()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(delay: delay, reply: reply, received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return DiscoveryTestResponder(channel: channel, received: received)
    }

    private init(channel: any Channel, received: Received) {
        self.channel = channel
        self.received = received
    }

    /// Waits (up to two seconds) until `count` requests arrived.
    func waitForRequests(_ count: Int) async {
        for _ in 0..<200 where requests.count < count {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() async { try? await channel.close() }

    /// A 1010 frame.
    static func serverAddress(
        id: String, endpoints: [String], location: (Double, Double)? = nil, protocols: ClosedRange<UInt32> = ProtocolVersion.supported
    ) -> [UInt8] {
        var message = WireServerAddress()
        message.serverID = id
        message.endpoints = endpoints
        message.protocolMin = protocols.lowerBound
        message.protocolMax = protocols.upperBound
        if let location {
            var point = WireLocation()
            point.lat = location.0
            point.lon = location.1
            message.location = point
        }
        return (try? TelexCodec().encode(.serverAddress(message))) ?? []
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let delay: Duration
        let reply: @Sendable ([UInt8]) -> [[UInt8]]
        let received: Received

        init(delay: Duration, reply: @escaping @Sendable ([UInt8]) -> [[UInt8]], received: Received) {
            self.delay = delay
            self.reply = reply
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let bytes = Array(envelope.data.readableBytesView)
            received.append(bytes)
            let channel = context.channel
            let answers = reply(bytes).map { AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: $0)) }
            context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                for answer in answers { channel.writeAndFlush(answer, promise: nil) }
            }
        }
    }
}
