import Logging
import NIOCore
import NIOPosix
import PiggybackProtocol

/// Answers each valid telex 10 datagram with a 1010 unicast to its sender.
///
/// Anything that is not a well-formed 10 is dropped (logged at debug): a discovery port
/// hears all sorts of traffic. Answers go through the rate limiter and never exceed the
/// request's size (see ``DiscoveryResponder``).
final class DiscoveryHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    /// Largest request considered; a 10 padded to the recommended size is far below.
    static let maxRequestSize = 2048

    let serverID: String
    let location: (lat: Double, lon: Double)?
    let listenHost: String
    let advertised: @Sendable () -> [String]
    let delay: Duration
    let logger: Logger
    private var limiter: DiscoveryRateLimiter
    private var devices: [NIONetworkDevice] = []
    private var devicesRead = NIODeadline.uptimeNanoseconds(0)

    init(
        serverID: String, location: (lat: Double, lon: Double)?, listenHost: String, advertised: @escaping @Sendable () -> [String],
        delay: Duration, limiter: DiscoveryRateLimiter, logger: Logger
    ) {
        self.serverID = serverID
        self.location = location
        self.listenHost = listenHost
        self.advertised = advertised
        self.delay = delay
        self.limiter = limiter
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let source = envelope.remoteAddress
        let size = envelope.data.readableBytes
        guard size <= Self.maxRequestSize else {
            logger.debug("discovery: oversized datagram dropped", metadata: ["from": "\(source)", "bytes": "\(size)"])
            return
        }
        let request: WireDiscover
        do {
            guard case .discover(let discover) = try TelexCodec(maxFrameSize: Self.maxRequestSize).decode(Array(envelope.data.readableBytesView)) else {
                logger.debug("discovery: datagram is not a telex 10, dropped", metadata: ["from": "\(source)"])
                return
            }
            request = discover
        } catch {
            logger.debug("discovery: malformed datagram dropped", metadata: ["from": "\(source)", "error": "\(error)"])
            return
        }
        guard limiter.allow(source: source.ipAddress ?? "\(source)") else {
            logger.debug("discovery: rate limit reached, not answering", metadata: ["from": "\(source)"])
            return
        }
        let arrival = DiscoveryAnswer.Arrival(
            source: source, destination: envelope.metadata?.packetInfo?.destinationAddress,
            interfaceIndex: envelope.metadata?.packetInfo?.interfaceIndex
        )
        let endpoints = DiscoveryAnswer.endpoints(advertised: advertised(), listenHost: listenHost, arrival: arrival, devices: currentDevices())
        guard let frame = DiscoveryAnswer.frame(serverID: serverID, endpoints: endpoints, location: location, budget: size) else {
            logger.debug(
                "discovery: no answer fits in the request's \(size) bytes (pad the 10), or no endpoint yet",
                metadata: ["from": "\(source)", "device": "\(request.deviceID)"]
            )
            return
        }
        let answer = AddressedEnvelope(remoteAddress: source, data: context.channel.allocator.buffer(bytes: frame))
        logger.debug("discovery: answering", metadata: ["to": "\(source)", "bytes": "\(frame.count)", "device": "\(request.deviceID)"])
        if delay > .zero {
            let channel = context.channel
            context.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                channel.writeAndFlush(answer, promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(answer), promise: nil)
        }
    }

    /// Socket errors (an ICMP unreachable from an earlier answer, say) concern one peer, not the port.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("discovery: socket error", metadata: ["error": "\(error)"])
    }

    /// The machine's interfaces, re-read at most every five seconds.
    private func currentDevices() -> [NIONetworkDevice] {
        let now = NIODeadline.now()
        if now - devicesRead > .seconds(5) {
            devices = (try? System.enumerateDevices()) ?? devices
            devicesRead = now
        }
        return devices
    }
}
