/// What the communication monitor watches and how often it looks at TCP connections.
///
/// The monitor is event-driven: connectivity comes from the kernel's routing notifications,
/// so it costs nothing while nothing changes. Only the foreign-traffic check polls, and only
/// while the terminal is online. Debouncing triggers is the caller's job.
public struct MonitorConfiguration: Sendable, Equatable {
    /// Report `.online` / `.offline` when the terminal gains or loses a usable default route.
    public var networkUp: Bool
    /// While online, report `.foreignTraffic` when another process communicates: a TCP
    /// connection to another device (noticed when it ends, or within
    /// `foreignTrafficInterval` while it is open), or a connected UDP socket when it closes.
    public var foreignTraffic: Bool
    /// How often, while online, the TCP open counters are read to notice a connection that is
    /// still open (the tables only when the counters moved); never while offline. Also the
    /// shortest gap between two `.foreignTraffic` events.
    public var foreignTrafficInterval: Duration
    /// Count connected UDP sockets (DNS lookups, QUIC) when they close, not only TCP.
    public var foreignUDP: Bool
    /// Also ignore connections of processes running under the agent's own user id (seen
    /// while open; a destroy announcement names no user, so short ones still count).
    ///
    /// Off by default: only the agent's own process is excluded. Turn it on when helper
    /// processes the agent starts (scripts, `busctl`) should not count as the user's traffic,
    /// and only when the agent has a user of its own: as root it would hide every root process.
    public var ignoreOwnUser: Bool
    /// The network namespace to watch, as a file such as `/var/run/netns/NAME`; `nil` watches
    /// the agent's own. For tests and containers: the monitor's sockets are created on a
    /// thread that has joined this namespace.
    public var networkNamespace: String?

    /// Defaults: both triggers on, TCP tables read once a second while online.
    public init(
        networkUp: Bool = true,
        foreignTraffic: Bool = true,
        foreignTrafficInterval: Duration = .seconds(1),
        foreignUDP: Bool = true,
        ignoreOwnUser: Bool = false,
        networkNamespace: String? = nil
    ) {
        self.networkUp = networkUp
        self.foreignTraffic = foreignTraffic
        self.foreignTrafficInterval = foreignTrafficInterval
        self.foreignUDP = foreignUDP
        self.ignoreOwnUser = ignoreOwnUser
        self.networkNamespace = networkNamespace
    }
}
