import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Lets agents find this server without knowing its address: answers telex 10 on the UDP
/// discovery port with a 1010 (server id, agent endpoint URLs, location, protocol range).
///
/// Wire contract:
/// - IPv4: the 10 is a broadcast (255.255.255.255 or the link's directed broadcast) or a
///   unicast to the discovery port (default 7447). IPv6: the 10 goes to the link-local
///   multicast group **ff02::7067** ("pg") on the discovery port, or unicast. The responder
///   joins the group on every multicast-capable interface and re-checks for new interfaces
///   every 30 s.
/// - The answer is one datagram unicast from the discovery port to the sender.
/// - Anti-amplification: an answer is never larger than the request that caused it (factor
///   ≤ 1, in bytes). Agents pad their 10 to ``recommendedRequestSize`` bytes with protobuf
///   field 15 (bytes, unknown to the schema and ignored by decoders); an unpadded 10 gets no
///   answer unless the 1010 fits in it. When the endpoints do not all fit, the last ones
///   are dropped.
/// - At most 10 answers per second to one source address and 200 per second in total;
///   malformed datagrams are dropped silently (debug log).
///
/// A 1010 is only a hint: the agent still refuses any server whose certificate chain lacks
/// its pinned CA, so a rogue answer costs at most a failed connection attempt.
///
/// A server whose agent endpoint listens on loopback answers on loopback only. When the
/// port cannot be bound (in use, say) the responder logs an error and retries every few
/// seconds; the rest of the server runs without it.
struct DiscoveryResponder: Service {
    /// The discovery port agents use when not told otherwise.
    static let defaultPort = 7447
    /// The IPv6 link-local multicast group the 10 is sent to.
    static let multicastGroup = "ff02::7067"
    /// The size agents pad their 10 to: fits any IPv6 path (1280 MTU) and any 1010 we send.
    static let recommendedRequestSize = 1200

    /// How the responder listens and how much it answers.
    struct Configuration: Sendable {
        /// UDP port; 0 disables discovery.
        var port: Int
        /// The agent endpoint's listen host: loopback keeps discovery on loopback.
        var listenHost: String
        /// Wait this long before answering, so a server without delay wins the agent's
        /// "first answer" (a backup server sets it).
        var answerDelay: Duration = .zero
        /// Answers per second to one source address.
        var answersPerSecondPerSource: Double = 10
        /// Answers per second in total.
        var answersPerSecondTotal: Double = 200
        /// How often interfaces are re-read to join the multicast group on new ones.
        var interfaceRefresh: Duration = .seconds(30)
        /// Pause before binding again after the socket failed or closed.
        var rebindDelay: Duration = .seconds(5)
    }

    /// One UDP socket the responder keeps open.
    enum Socket: Sendable, Equatable {
        case v4(host: String)
        case v6(host: String, multicast: Bool)
    }

    let configuration: Configuration
    let serverID: String
    let location: (lat: Double, lon: Double)?
    let advertised: @Sendable () -> [String]
    let logger: Logger

    init(configuration: Configuration, serverID: String, location: (lat: Double, lon: Double)?, advertised: @escaping @Sendable () -> [String], logger: Logger) {
        self.configuration = configuration
        self.serverID = serverID
        self.location = location
        self.advertised = advertised
        self.logger = logger
    }

    /// The responder of a management server, answering with its advertised endpoints.
    init(context: ServerContext) {
        let server = context.configuration
        let endpoints = context.endpoints
        self.init(
            configuration: Configuration(port: server.discoveryPort, listenHost: server.listenHost, answerDelay: server.discoveryDelay),
            serverID: context.serverID, location: server.location, advertised: { endpoints.urls }, logger: context.logger
        )
    }

    /// The sockets for a listen host: loopback only, or IPv4 and IPv6 wildcards.
    static func sockets(listenHost: String) -> [Socket] {
        if listenHost == "localhost" || listenHost.hasPrefix("127.") { return [.v4(host: listenHost == "localhost" ? "127.0.0.1" : listenHost)] }
        if listenHost == "::1" { return [.v6(host: "::1", multicast: false)] }
        return [.v4(host: "0.0.0.0"), .v6(host: "::", multicast: true)]
    }

    func run() async throws {
        guard configuration.port != 0 else {
            logger.info("discovery disabled (--discovery-port 0)")
            try? await gracefulShutdown()
            return
        }
        let sockets = Self.sockets(listenHost: configuration.listenHost)
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for socket in sockets { group.addTask { await self.serve(socket) } }
            }
        }
    }

    /// Keeps one socket open until cancelled, binding again if it fails.
    func serve(_ socket: Socket) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let channel = try await bind(socket)
                failures = 0
                logger.info("discovery listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                await withTaskCancellationHandler {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { try? await channel.closeFuture.get() }
                        if case .v6(_, true) = socket { group.addTask { await self.keepJoined(channel) } }
                        await group.next()
                        group.cancelAll()
                    }
                } onCancel: {
                    channel.close(promise: nil)
                }
                if Task.isCancelled { return }
                logger.warning("discovery socket closed unexpectedly; opening it again", metadata: ["socket": "\(socket)"])
            } catch let error as IOError where error.errnoCode == EAFNOSUPPORT {
                logger.notice("discovery: address family not supported here, skipping", metadata: ["socket": "\(socket)"])
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let metadata: Logger.Metadata = ["socket": "\(socket)", "port": "\(configuration.port)", "error": "\(error)"]
                if failures == 1 {
                    logger.error("discovery: cannot open the UDP port; agents will not find this server by broadcast until it is free (or pass --discovery-port 0)", metadata: metadata)
                } else {
                    logger.debug("discovery: still cannot open the UDP port", metadata: metadata)
                }
            }
            try? await Task.sleep(for: configuration.rebindDelay)
        }
    }

    func bind(_ socket: Socket) async throws -> any Channel {
        let limiter = DiscoveryRateLimiter(perSource: configuration.answersPerSecondPerSource, total: configuration.answersPerSecondTotal)
        let (serverID, location, listenHost, advertised, delay, logger) = (
            self.serverID, self.location, configuration.listenHost, self.advertised, configuration.answerDelay, self.logger
        )
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.receivePacketInfo, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        DiscoveryHandler(
                            serverID: serverID, location: location, listenHost: listenHost, advertised: advertised,
                            delay: delay, limiter: limiter, logger: logger
                        )
                    )
                }
            }
        let host: String
        switch socket {
        case .v4(let address):
            host = address
            bootstrap = bootstrap.channelOption(.socketOption(.so_broadcast), value: 1)
        case .v6(let address, _):
            host = address
            bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
        }
        return try await bootstrap.bind(host: host, port: configuration.port).get()
    }

    /// Joins the multicast group on every multicast-capable IPv6 interface, now and as they appear.
    func keepJoined(_ channel: any Channel) async {
        guard let multicast = channel as? any MulticastChannel,
              let group = try? SocketAddress(ipAddress: Self.multicastGroup, port: configuration.port)
        else { return }
        var joined = Set<Int>()
        while !Task.isCancelled {
            let devices = (try? await channel.eventLoop.submit { try System.enumerateDevices() }.get()) ?? []
            for device in devices where device.multicastSupported && !joined.contains(device.interfaceIndex) {
                guard case .v6? = device.address, device.address.map(DiscoveryAnswer.isLoopback) == false else { continue }
                do {
                    try await multicast.joinGroup(group, device: device).get()
                    joined.insert(device.interfaceIndex)
                    logger.debug("discovery: joined \(Self.multicastGroup)", metadata: ["interface": "\(device.name)"])
                } catch {
                    logger.debug("discovery: cannot join \(Self.multicastGroup)", metadata: ["interface": "\(device.name)", "error": "\(error)"])
                }
            }
            try? await Task.sleep(for: configuration.interfaceRefresh)
        }
    }
}
