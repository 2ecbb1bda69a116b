import Foundation
import NIOCore
import NIOPosix

/// One way of finding a management server; a configuration chains several.
public enum DiscoveryMethod: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Ask the local network: telex 10 by UDP broadcast (IPv4) and multicast (IPv6); the
    /// first server to answer 1010 wins.
    case broadcast
    /// The servers from the enrollment token or `--server`, in the order given.
    case list
    /// The listed servers in order of great-circle distance from the terminal's position
    /// (needs the terminal's position and the servers' locations).
    case nearest

    public var description: String { rawValue }

    /// Parses a chain such as `nearest,list,broadcast`; the error names the valid methods.
    public static func chain(parsing text: String) throws(DiscoveryConfigurationError) -> [DiscoveryMethod] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var chain: [DiscoveryMethod] = []
        for name in names where !name.isEmpty {
            guard let method = DiscoveryMethod(rawValue: name) else {
                throw DiscoveryConfigurationError("unknown discovery method \"\(name)\"; use a comma-separated chain of broadcast, list, nearest (e.g. nearest,list,broadcast)")
            }
            if !chain.contains(method) { chain.append(method) }
        }
        guard !chain.isEmpty else { throw DiscoveryConfigurationError("the discovery chain is empty; name at least one of broadcast, list, nearest") }
        return chain
    }
}

/// A discovery setting that cannot work, with what to write instead.
public struct DiscoveryConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public var message: String

    /// Creates the error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// How the agent looks for a management server: which methods in which order, and how
/// long it waits for broadcast answers and before retrying a server that failed.
public struct DiscoveryConfiguration: Sendable {
    /// The UDP discovery port servers listen on when not told otherwise.
    public static let defaultPort = 7447
    /// The IPv6 link-local multicast group servers join ("pg").
    public static let multicastGroup = "ff02::7067"

    /// Methods tried in order; each adds the servers it finds after those of the previous ones.
    public var methods: [DiscoveryMethod]
    /// The servers' UDP discovery port.
    public var port: Int
    /// How long to wait for the first 1010 after broadcasting a 10.
    public var broadcastTimeout: Duration
    /// The first wait after a server failed; it doubles with each further failure (with jitter).
    public var backoffBase: Duration
    /// The longest wait before a failed server is tried again.
    public var backoffMax: Duration
    /// Interfaces to broadcast and multicast on, by name; nil means every non-loopback
    /// interface plus 255.255.255.255, an empty list means none (only ``unicastTargets``).
    public var interfaces: [String]?
    /// Addresses (`IP`, `IP:PORT`, `[IPv6]:PORT`) that also get the 10 by unicast, for
    /// networks that filter broadcast; IP literals only, since discovery runs before DNS may work.
    public var unicastTargets: [String]
    /// Bytes the 10 is padded to; servers never answer with more bytes than they received.
    public var requestSize: Int
    /// Where the UDP sockets live. Sockets are created and interfaces listed on this group's
    /// event loop, so a group whose threads were started in another network namespace
    /// discovers in that namespace.
    public var eventLoopGroup: any EventLoopGroup

    /// Defaults: list then broadcast, port 7447, 1.5 s for broadcast answers, backoff from 30 s up to 1 h.
    public init(
        methods: [DiscoveryMethod] = [.list, .broadcast],
        port: Int = DiscoveryConfiguration.defaultPort,
        broadcastTimeout: Duration = .milliseconds(1500),
        backoffBase: Duration = .seconds(30),
        backoffMax: Duration = .seconds(3600),
        interfaces: [String]? = nil,
        unicastTargets: [String] = [],
        requestSize: Int = 1200,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.methods = methods
        self.port = port
        self.broadcastTimeout = broadcastTimeout
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
        self.interfaces = interfaces
        self.unicastTargets = unicastTargets
        self.requestSize = requestSize
        self.eventLoopGroup = eventLoopGroup
    }
}
