import Foundation
import NIOCore
import PiggybackProtocol

/// Builds the 1010 a discovery request gets: which endpoint URLs to offer, and a frame that
/// is never larger than the request (amplification factor ≤ 1).
///
/// Endpoint order: first the address the request arrived at (when the agent endpoint
/// listens on a wildcard address, so that address really serves it), then the advertised
/// URLs. Loopback URLs are offered only to loopback sources: to anyone else they would
/// point at the agent itself.
enum DiscoveryAnswer {
    /// Where the request came in: the datagram's destination and interface, the sender.
    struct Arrival {
        var source: SocketAddress
        var destination: SocketAddress?
        var interfaceIndex: Int?
    }

    /// The 1010 frame for `arrival`, or nil when not even one endpoint fits in `budget` bytes.
    static func frame(
        serverID: String, endpoints: [String], location: (lat: Double, lon: Double)?, budget: Int
    ) -> [UInt8]? {
        var message = WireServerAddress()
        message.serverID = serverID
        message.protocolMin = ProtocolVersion.supported.lowerBound
        message.protocolMax = ProtocolVersion.supported.upperBound
        if let location {
            var point = WireLocation()
            point.lat = location.lat
            point.lon = location.lon
            message.location = point
        }
        var offered = endpoints
        while !offered.isEmpty {
            message.endpoints = offered
            if let frame = try? TelexCodec().encode(.serverAddress(message)), frame.count <= budget { return frame }
            offered.removeLast()
        }
        return nil
    }

    /// The endpoint URLs to offer, in order, without duplicates.
    static func endpoints(advertised: [String], listenHost: String, arrival: Arrival, devices: [NIONetworkDevice]) -> [String] {
        var urls: [String] = []
        if let port = advertised.lazy.compactMap({ URLComponents(string: $0)?.port }).first {
            urls = arrivalHosts(listenHost: listenHost, arrival: arrival, devices: devices).map { url(host: $0, port: port) }
        }
        urls.append(contentsOf: advertised)
        let local = isLoopback(arrival.source)
        var seen = Set<String>()
        return urls.filter { url in
            guard seen.insert(url).inserted else { return false }
            return local || !isLoopbackURL(url)
        }
    }

    /// `wss://HOST:PORT/v1/session`, bracketing IPv6 literals.
    static func url(host: String, port: Int) -> String {
        let literal = host.contains(":") ? "[\(host)]" : host
        return "wss://\(literal):\(port)/v1/session"
    }

    /// Local addresses of the arrival interface that the agent endpoint serves: the
    /// request's own destination when it was unicast, else the interface's addresses
    /// (same subnet as the sender first). Empty unless the endpoint listens on a wildcard.
    static func arrivalHosts(listenHost: String, arrival: Arrival, devices: [NIONetworkDevice]) -> [String] {
        let allowV6 = ["::", ""].contains(listenHost)
        guard allowV6 || listenHost == "0.0.0.0" else { return [] }
        let allowed: (SocketAddress) -> Bool = { address in
            switch address {
            case .v4: true
            case .v6: allowV6 && !isLinkLocal(address) && !isLoopback(address)
            default: false
            }
        }
        if let destination = arrival.destination, let ip = destination.ipAddress,
           devices.contains(where: { $0.address?.ipAddress == ip }), allowed(destination) {
            return [ip]
        }
        guard let index = arrival.interfaceIndex else { return [] }
        let local = devices.filter { $0.interfaceIndex == index }.compactMap { device -> (SocketAddress, SocketAddress?)? in
            guard let address = device.address, allowed(address) else { return nil }
            return (address, device.netmask)
        }
        let sameSubnet = local.filter { contains(network: $0.0, mask: $0.1, address: arrival.source) }
        let sameFamily = local.filter { $0.0.protocol == arrival.source.protocol }
        var hosts: [String] = []
        for (address, _) in sameSubnet + sameFamily + local {
            if let ip = address.ipAddress, !hosts.contains(ip) { hosts.append(ip) }
        }
        return Array(hosts.prefix(2))
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        guard let ip = address.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }

    static func isLoopbackURL(_ url: String) -> Bool {
        guard let host = URLComponents(string: url)?.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) else { return false }
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    static func isLinkLocal(_ address: SocketAddress) -> Bool {
        guard case .v6(let v6) = address else { return false }
        return withUnsafeBytes(of: v6.address.sin6_addr) { $0[0] == 0xfe && $0[1] & 0xc0 == 0x80 }
    }

    /// Whether `address` lies in the IPv4 network of `network`/`mask`.
    static func contains(network: SocketAddress, mask: SocketAddress?, address: SocketAddress) -> Bool {
        guard case .v4(let n) = network, case .v4(let m)? = mask, case .v4(let a) = address else { return false }
        let maskBits = m.address.sin_addr.s_addr
        return n.address.sin_addr.s_addr & maskBits == a.address.sin_addr.s_addr & maskBits
    }
}
