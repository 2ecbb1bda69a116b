import Glibc
import Logging
import NIOCore
import NIOPosix
import PiggybackProtocol

/// The broadcast method: sends a padded telex 10 by UDP to every IPv4 broadcast address
/// and to the IPv6 multicast group on every interface, and returns the first valid 1010.
///
/// Each target gets its own socket, so a target that cannot be reached (no route for
/// 255.255.255.255, an interface that is down) fails alone. The 10 goes out again after a
/// third of the timeout if nothing valid came back, in case the first was lost. Once a
/// valid answer arrives the sockets close: later answers are never read.
struct DiscoveryBroadcast {
    let configuration: DiscoveryConfiguration
    let logger: Logger
    let trace: SessionTrace

    /// Where one copy of the 10 goes.
    struct Target: Sendable {
        var address: SocketAddress
        var label: String
    }

    /// A datagram received on one of the sockets.
    struct Datagram: Sendable {
        var bytes: [UInt8]
        var source: SocketAddress
        var received: ContinuousClock.Instant
    }

    /// The first valid 1010 within the timeout, or nil.
    func run() async -> DiscoveredServer? {
        let loop = configuration.eventLoopGroup.next()
        let configuration = self.configuration
        let devices: [NIONetworkDevice]
        do {
            devices = try await loop.submit { try System.enumerateDevices() }.get()
        } catch {
            logger.warning("discovery: cannot list network interfaces; broadcasting to unicast targets only", metadata: ["error": "\(error)"])
            devices = []
        }
        let (targets, invalid) = Self.targets(devices: devices, configuration: configuration)
        for text in invalid {
            logger.warning("discovery: unicast target \"\(text)\" is not IP, IP:PORT or [IPv6]:PORT; skipped")
        }
        guard !targets.isEmpty else {
            trace.note("broadcast: no interface to send a 10 on")
            return nil
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Datagram.self, bufferingPolicy: .bufferingNewest(256))
        var opened: [(channel: any Channel, target: Target)] = []
        for target in targets {
            do {
                opened.append((try await Self.open(v6: target.address.protocol == .inet6, on: loop, continuation: continuation), target))
            } catch {
                logger.debug("discovery: cannot open a socket", metadata: ["target": "\(target.label)", "error": "\(error)"])
            }
        }
        let channels = opened.map(\.channel)
        let used = opened.map(\.target)
        let request = DiscoveryDatagram.request(size: configuration.requestSize)
        let start = ContinuousClock.now
        let logger = self.logger
        await Self.send(request, over: channels, to: used, logger: logger)
        trace.record(sent: true, code: .discover, payload: request.count)
        trace.note("by UDP to \(used.map(\.label).joined(separator: ", "))")

        let answer = await withTaskGroup(of: (DiscoveredServer, Int)?.self) { group in
            group.addTask {
                for await datagram in stream {
                    switch DiscoveryDatagram.answer(datagram.bytes, from: datagram.source, latency: datagram.received - start) {
                    case .success(let server): return (server, datagram.bytes.count)
                    case .failure(let why): logger.debug("discovery: answer ignored", metadata: ["from": "\(datagram.source)", "reason": "\(why)"])
                    }
                }
                return nil
            }
            group.addTask {
                let timeout = configuration.broadcastTimeout
                try? await Task.sleep(for: timeout / 3)
                if !Task.isCancelled { await Self.send(request, over: channels, to: used, logger: logger) }
                try? await Task.sleep(for: timeout - timeout / 3)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        for channel in channels { try? await channel.close() }
        continuation.finish()
        guard let (server, size) = answer else {
            trace.note("broadcast: no valid answer in \(configuration.broadcastTimeout)")
            return nil
        }
        trace.record(sent: false, code: .serverAddress, payload: size)
        return server
    }

    /// One UDP socket for sending to one target, created on `loop`'s thread (so in that
    /// thread's network namespace), feeding what it receives into `continuation`.
    static func open(v6: Bool, on loop: any EventLoop, continuation: AsyncStream<Datagram>.Continuation) async throws -> any Channel {
        try await loop.flatSubmit {
            var bootstrap = DatagramBootstrap(group: loop).channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramCollector(continuation: continuation))
                }
            }
            if v6 {
                bootstrap = bootstrap.channelOption(ChannelOptions.Types.SocketOption(level: .ipv6, name: .ipv6_v6only), value: 1)
            } else {
                bootstrap = bootstrap.channelOption(.socketOption(.so_broadcast), value: 1)
            }
            return bootstrap.bind(host: v6 ? "::" : "0.0.0.0", port: 0)
        }.get()
    }

    static func send(_ request: [UInt8], over channels: [any Channel], to targets: [Target], logger: Logger) async {
        for (channel, target) in zip(channels, targets) where channel.isActive {
            do {
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: target.address, data: ByteBuffer(bytes: request)))
            } catch {
                logger.debug("discovery: cannot send the 10", metadata: ["target": "\(target.label)", "error": "\(error)"])
            }
        }
    }

    /// Where the 10 goes: 255.255.255.255 (unless interfaces are named), each selected
    /// interface's IPv4 broadcast address, the IPv6 group on each selected multicast
    /// interface that has an address beyond link-local, and the unicast targets. Also returns the unicast targets that do not parse.
    static func targets(devices: [NIONetworkDevice], configuration: DiscoveryConfiguration) -> (targets: [Target], invalid: [String]) {
        let port = configuration.port
        var targets: [Target] = []
        func add(_ address: SocketAddress?, _ label: String) {
            guard let address, !targets.contains(where: { $0.address == address }) else { return }
            targets.append(Target(address: address, label: label))
        }
        if configuration.interfaces == nil {
            add(try? SocketAddress(ipAddress: "255.255.255.255", port: port), "255.255.255.255:\(port)")
        }
        // Interfaces with an address beyond IPv6 link-local: the others (bridge ports, say)
        // are not where a route to a server's endpoint would go.
        let routable = Set(devices.filter { $0.address.map { !isLinkLocal($0) } ?? false }.map(\.interfaceIndex))
        for device in devices where routable.contains(device.interfaceIndex) {
            if let names = configuration.interfaces, !names.contains(device.name) { continue }
            guard let address = device.address, device.name != "lo", !DiscoveryDatagram.isLoopback(address) else { continue }
            switch address {
            case .v4:
                // Computed from address and mask: an address added without `brd` reports itself as broadcast.
                if device.broadcastAddress != nil, let broadcast = directedBroadcast(address, netmask: device.netmask, port: port) {
                    add(broadcast, "\(broadcast.ipAddress ?? "?"):\(port) (\(device.name))")
                }
            case .v6:
                if device.multicastSupported {
                    add(multicast(interfaceIndex: device.interfaceIndex, port: port), "[\(DiscoveryConfiguration.multicastGroup)%\(device.name)]:\(port)")
                }
            default:
                break
            }
        }
        var invalid: [String] = []
        for text in configuration.unicastTargets {
            if let address = unicast(text, defaultPort: port) { add(address, text) } else { invalid.append(text) }
        }
        return (targets, invalid)
    }

    static func isLinkLocal(_ address: SocketAddress) -> Bool {
        guard case .v6(let v6) = address else { return false }
        return withUnsafeBytes(of: v6.address.sin6_addr) { $0[0] == 0xfe && $0[1] & 0xc0 == 0x80 }
    }

    /// The directed broadcast address of an IPv4 network (address | ~mask), nil for /31 and /32.
    static func directedBroadcast(_ address: SocketAddress, netmask: SocketAddress?, port: Int) -> SocketAddress? {
        guard case .v4(let host) = address, case .v4(let mask)? = netmask else { return nil }
        let maskBits = UInt32(bigEndian: mask.address.sin_addr.s_addr)
        guard maskBits.nonzeroBitCount <= 30 else { return nil }
        var broadcast = host.address
        broadcast.sin_addr.s_addr = (UInt32(bigEndian: host.address.sin_addr.s_addr) | ~maskBits).bigEndian
        broadcast.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        return SocketAddress(broadcast, host: "")
    }

    /// The IPv6 discovery group on one interface (link-local scope needs the interface).
    static func multicast(interfaceIndex: Int, port: Int) -> SocketAddress? {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin6_scope_id = UInt32(truncatingIfNeeded: interfaceIndex)
        guard inet_pton(AF_INET6, DiscoveryConfiguration.multicastGroup, &address.sin6_addr) == 1 else { return nil }
        return SocketAddress(address, host: DiscoveryConfiguration.multicastGroup)
    }

    /// Parses `IP`, `IP:PORT` or `[IPv6]:PORT`.
    static func unicast(_ text: String, defaultPort: Int) -> SocketAddress? {
        var host = Substring(text)
        var port = defaultPort
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            guard let value = Int(text[text.index(after: colon)...]) else { return nil }
            port = value
        }
        guard (1...65535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: String(host), port: port)
    }
}

/// Hands every datagram a discovery socket receives to the waiting task.
final class DatagramCollector: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let continuation: AsyncStream<DiscoveryBroadcast.Datagram>.Continuation

    init(continuation: AsyncStream<DiscoveryBroadcast.Datagram>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        continuation.yield(.init(bytes: Array(envelope.data.readableBytesView), source: envelope.remoteAddress, received: .now))
    }

    /// An ICMP "port unreachable" from a unicast target is no reason to stop listening.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
