/// What the communication monitor watches and how often it looks at TCP connections.
///
/// The monitor is event-driven: connectivity comes from the kernel's routing notifications,
/// so it costs nothing while nothing changes. Only the foreign-traffic check polls, and only
/// while the terminal is online. Debouncing triggers is the caller's job.
public struct MonitorConfiguration: Sendable, Equatable {
    /// Report `.online` / `.offline` when the terminal gains or loses a usable default route.
    public var networkUp: Bool
    /// While online, report `.foreignTraffic` when another process opens a TCP connection.
    public var foreignTraffic: Bool
    /// How often the TCP tables are read while online (never while offline).
    public var foreignTrafficInterval: Duration
    /// Also ignore connections of processes running under the agent's own user id.
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
        ignoreOwnUser: Bool = false,
        networkNamespace: String? = nil
    ) {
        self.networkUp = networkUp
        self.foreignTraffic = foreignTraffic
        self.foreignTrafficInterval = foreignTrafficInterval
        self.ignoreOwnUser = ignoreOwnUser
        self.networkNamespace = networkNamespace
    }
}
