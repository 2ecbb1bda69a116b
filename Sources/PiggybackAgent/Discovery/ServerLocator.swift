import Foundation
import Logging

/// Decides which management servers to try, in which order, and why.
///
/// Runs the configured chain of ``DiscoveryMethod``s: each adds the servers it finds after
/// those of the previous methods (a server found twice keeps its first place and reason).
/// Servers that failed recently (``recordFailure(_:)``) are skipped until their backoff
/// expires, unless every server found is in backoff; then they come last-resort, soonest
/// due first.
///
/// Discovery only suggests where to connect: the session still refuses any server whose
/// certificate chain lacks the pinned CA, so a rogue broadcast answer costs one failed
/// connection attempt, never a session.
///
/// Keep one locator for the agent's lifetime: the backoff lives in it.
public struct ServerLocator: Sendable {
    /// Methods, port, timeouts.
    public let configuration: DiscoveryConfiguration
    /// The servers that failed recently.
    public let backoff: ServerBackoff
    let logger: Logger
    let trace: SessionTrace

    /// Creates a locator; `trace` receives the broadcast's telex lines (`→ 10 discover 1200 B`).
    public init(configuration: DiscoveryConfiguration = DiscoveryConfiguration(), logger: Logger, trace: (@Sendable (String) -> Void)? = nil) {
        self.configuration = configuration
        self.backoff = ServerBackoff(base: configuration.backoffBase, max: configuration.backoffMax)
        self.logger = logger
        self.trace = SessionTrace(trace)
    }

    /// The servers to try, lazily: a method runs only when the servers of the previous
    /// ones are used up, so with `list, broadcast` nothing is broadcast while a listed
    /// server answers. Stop iterating at the first server that gives a session.
    ///
    /// - Parameters:
    ///   - configured: servers from `--server` or the enrollment token, in order, with locations when known.
    ///   - position: the terminal's position, for ``DiscoveryMethod/nearest``.
    public func locate(configured: [Candidate], position: (lat: Double, lon: Double)?) -> LocatedServers {
        LocatedServers(locator: self, configured: configured, position: position)
    }

    /// Every server the chain finds, in order (runs every method, including the broadcast wait).
    public func candidates(configured: [Candidate], position: (lat: Double, lon: Double)?) async -> [LocatedServer] {
        var all: [LocatedServer] = []
        for await server in locate(configured: configured, position: position) { all.append(server) }
        return all
    }

    /// Records that a session with `server` failed (unreachable, untrusted, timed out): it
    /// is skipped until its backoff expires.
    public func recordFailure(_ server: LocatedServer) async {
        let wait = await backoff.recordFailure(server.url)
        logger.info("server failed; skipping it for a while", metadata: ["server": "\(server.url)", "for": "\(wait)"])
    }

    /// Records that a session with `server` worked: its failures are forgotten.
    public func recordSuccess(_ server: LocatedServer) async {
        await backoff.recordSuccess(server.url)
    }

    /// The broadcast method alone: the first valid 1010 on the local network, or nil.
    public func broadcast() async -> DiscoveredServer? {
        await DiscoveryBroadcast(configuration: configuration, logger: logger, trace: trace).run()
    }

    /// The servers one method finds, before de-duplication and backoff.
    func servers(by method: DiscoveryMethod, configured: [Candidate], position: (lat: Double, lon: Double)?) async -> [LocatedServer] {
        switch method {
        case .list:
            return Self.listed(configured, logger: logger)
        case .nearest:
            return Self.nearest(configured, position: position, logger: logger)
        case .broadcast:
            guard let found = await broadcast() else {
                logger.info("discovery: no server answered the broadcast", metadata: ["timeout": "\(configuration.broadcastTimeout)"])
                return []
            }
            let milliseconds = Int((found.latency.seconds * 1000).rounded())
            let reason = "broadcast: first answer from \(found.source) in \(milliseconds) ms (server \(found.serverID.prefix(8)))"
            logger.info("discovery: \(reason)", metadata: ["endpoints": "\(found.endpoints.map(\.url))"])
            return found.endpoints.map {
                LocatedServer(endpoint: $0, reason: reason, method: .broadcast, serverID: found.serverID, location: found.location)
            }
        }
    }
}

/// The servers a ``ServerLocator`` finds, one method at a time.
public struct LocatedServers: AsyncSequence, Sendable {
    public typealias Element = LocatedServer
    public typealias Failure = Never

    let locator: ServerLocator
    let configured: [Candidate]
    let position: (lat: Double, lon: Double)?

    public func makeAsyncIterator() -> Iterator {
        Iterator(locator: locator, configured: configured, position: position, methods: locator.configuration.methods[...])
    }

    /// Runs the next method when the servers found so far are used up.
    public struct Iterator: AsyncIteratorProtocol {
        let locator: ServerLocator
        let configured: [Candidate]
        let position: (lat: Double, lon: Double)?
        var methods: ArraySlice<DiscoveryMethod>
        var queue: [LocatedServer] = []
        var seen: Set<String> = []
        var deferred: [(server: LocatedServer, until: ContinuousClock.Instant)] = []
        var yielded = 0
        var fellBack = false

        public mutating func next() async -> LocatedServer? {
            while true {
                if !queue.isEmpty {
                    yielded += 1
                    return queue.removeFirst()
                }
                if let method = methods.popFirst() {
                    for server in await locator.servers(by: method, configured: configured, position: position) where seen.insert(server.url).inserted {
                        if let until = await locator.backoff.retryAt(server.url) {
                            locator.logger.debug("discovery: skipping a server in backoff", metadata: ["server": "\(server.url)", "until": "\(until)"])
                            deferred.append((server, until))
                        } else {
                            queue.append(server)
                        }
                    }
                    continue
                }
                if !fellBack, yielded == 0, !deferred.isEmpty {
                    fellBack = true
                    queue = deferred.sorted { $0.until < $1.until }.map { entry in
                        var server = entry.server
                        server.reason += " (every server is in backoff; trying anyway)"
                        return server
                    }
                    continue
                }
                return nil
            }
        }
    }
}
