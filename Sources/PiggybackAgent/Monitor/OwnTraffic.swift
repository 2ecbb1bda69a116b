import Foundation
import Synchronization

/// What the agent itself is doing on the network, so that the communication monitor does not
/// take the agent's own traffic for the user's.
///
/// A destroy announcement names no owner: by the time the kernel reports a socket's end, the
/// socket has left every process. Two things tell ours apart instead:
/// - **activity**: while a session runs, and for a short grace after (the kernel reports a
///   close some milliseconds after the session returns), every end is taken as ours. Nothing
///   is lost: a session is already talking, and triggers while it runs would only queue
///   another one behind it.
/// - **registered ports**: a long-lived connection outside sessions (gpsd on another host)
///   registers its local port when it connects; its end is then recognised whenever it comes.
///
/// One registry per process (``process``): the daemon marks activity, the monitor asks.
public final class OwnTraffic: Sendable {
    /// The registry of this process.
    public static let process = OwnTraffic()

    private struct State {
        var active = 0
        var lastActivity: ContinuousClock.Instant?
        var ports: [PortKey: ContinuousClock.Instant] = [:]
    }

    private struct PortKey: Hashable {
        var transport: SocketEnd.Transport
        var port: UInt16
    }

    /// How long after an activity ends its sockets' ends still count as ours.
    public let grace: Duration
    /// How long a registered port is remembered when its end is never seen.
    public let portLifetime: Duration
    /// Upper bound on registered ports, so that a leak cannot grow without limit.
    static let portLimit = 4096
    private let state = Mutex(State())

    /// A registry; tests make their own, the agent uses ``process``.
    public init(grace: Duration = .seconds(2), portLifetime: Duration = .seconds(24 * 3600)) {
        self.grace = grace
        self.portLifetime = portLifetime
    }

    /// Runs `body` as the agent's own activity: socket ends meanwhile (and for ``grace``
    /// after) are not the user's.
    public func withActivity<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        state.withLock { $0.active += 1 }
        defer {
            state.withLock {
                $0.active -= 1
                $0.lastActivity = .now
            }
        }
        return try await body()
    }

    /// Remembers a connection of the agent's own, outside any activity, by its local port.
    func register(_ transport: SocketEnd.Transport, localPort: UInt16) {
        let now = ContinuousClock.now
        state.withLock { state in
            if state.ports.count >= Self.portLimit {
                state.ports = state.ports.filter { now - $0.value < portLifetime }
                if state.ports.count >= Self.portLimit { state.ports.removeAll() }
            }
            state.ports[PortKey(transport: transport, port: localPort)] = now
        }
    }

    /// Whether the socket that ended was the agent's own; a registered port is forgotten
    /// once its end is seen.
    func isOwn(_ end: SocketEnd, now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in
            if state.ports.removeValue(forKey: PortKey(transport: end.transport, port: end.localPort)) != nil { return true }
            if state.active > 0 { return true }
            if let last = state.lastActivity, now - last < grace { return true }
            return false
        }
    }

    /// True while an activity runs.
    public var isActive: Bool { state.withLock { $0.active > 0 } }
}
