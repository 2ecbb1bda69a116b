import NIOCore
import PiggybackProtocol

/// What the first valid 1010 said, and how it came.
public struct DiscoveredServer: Sendable {
    /// The server's stable id.
    public var serverID: String
    /// Its agent endpoints, in the server's order, without loopback ones when it is not local.
    public var endpoints: [Endpoint]
    /// Where it stands, when it said.
    public var location: (lat: Double, lon: Double)?
    /// The protocol versions it speaks.
    public var protocols: ClosedRange<UInt32>
    /// The address the answer came from.
    public var source: String
    /// Time from sending the 10 to receiving this answer.
    public var latency: Duration
}

/// The bytes of discovery over UDP: the padded 10 the agent sends, and the checks a 1010
/// must pass before the agent believes it.
enum DiscoveryDatagram {
    /// Why an answer was ignored (logged at debug).
    struct Rejection: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Protobuf key of the padding: field 15, wire type 2 (bytes). Not in the schema, so
    /// every decoder skips it; servers only count it (they answer with at most as many bytes).
    static let paddingKey: UInt8 = 15 << 3 | 2

    /// A telex 10 frame padded to `size` bytes (left as is when already larger, or when a
    /// single byte is missing: no protobuf field is one byte long).
    static func request(size: Int) -> [UInt8] {
        var discover = WireDiscover()
        discover.protocolMin = ProtocolVersion.supported.lowerBound
        discover.protocolMax = ProtocolVersion.supported.upperBound
        var frame = (try? TelexCodec().encode(.discover(discover))) ?? [0, 10]
        while frame.count < size {
            let remaining = size - frame.count
            // key + length varint + zeros, exactly `remaining` bytes when some length fits.
            if let length = (1...3).lazy.map({ remaining - 1 - $0 }).first(where: { $0 >= 0 && varintSize($0) == remaining - 1 - $0 }) {
                frame.append(paddingKey)
                appendVarint(length, to: &frame)
                frame.append(contentsOf: repeatElement(0, count: length))
            } else if remaining >= 2 {
                frame.append(contentsOf: [paddingKey, 0])  // an empty pad shifts the rest onto a size that fits
            } else {
                break
            }
        }
        return frame
    }

    /// The 1010 in `bytes` if the agent can use it, else why not.
    static func answer(_ bytes: [UInt8], from source: SocketAddress, latency: Duration) -> Result<DiscoveredServer, Rejection> {
        let telex: Telex
        do {
            telex = try TelexCodec(maxFrameSize: 64 * 1024).decode(bytes)
        } catch {
            return .failure(Rejection("not a telex: \(error)"))
        }
        guard case .serverAddress(let wire) = telex else {
            return .failure(Rejection("telex \(telex.code.rawValue) instead of 1010"))
        }
        guard !wire.serverID.isEmpty else { return .failure(Rejection("1010 without a server id")) }
        let protocols = ProtocolVersion.range(min: wire.protocolMin, max: wire.protocolMax)
        guard ProtocolVersion.negotiate(peer: protocols) != nil else {
            return .failure(Rejection("server speaks protocol \(ProtocolVersion.describe(protocols)), we speak \(ProtocolVersion.describe(ProtocolVersion.supported))"))
        }
        let local = isLoopback(source)
        var endpoints: [Endpoint] = []
        for text in wire.endpoints {
            guard let endpoint = try? Endpoint(text), local || !isLoopbackHost(endpoint.host), !endpoints.contains(endpoint) else { continue }
            endpoints.append(endpoint)
        }
        guard !endpoints.isEmpty else { return .failure(Rejection("1010 without a usable wss:// endpoint")) }
        var location: (lat: Double, lon: Double)?
        if wire.hasLocation, GreatCircle.isValid((wire.location.lat, wire.location.lon)) {
            location = (wire.location.lat, wire.location.lon)
        }
        return .success(
            DiscoveredServer(
                serverID: wire.serverID, endpoints: endpoints, location: location, protocols: protocols,
                source: source.ipAddress ?? "\(source)", latency: latency
            )
        )
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        address.ipAddress.map(isLoopbackHost) ?? false
    }

    static func isLoopbackHost(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host.hasPrefix("::ffff:127.")
    }

    static func varintSize(_ value: Int) -> Int {
        var size = 1
        var rest = value >> 7
        while rest > 0 { size += 1; rest >>= 7 }
        return size
    }

    static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}
