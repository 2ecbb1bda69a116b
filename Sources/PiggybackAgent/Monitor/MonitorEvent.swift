import Foundation

/// Something the communication monitor noticed that may be worth a session.
public enum MonitorEvent: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The terminal has a usable default route through `interface` (also sent when the
    /// route moves to another interface, e.g. Wi-Fi to LTE: a new network to try).
    case online(interface: String)
    /// The last usable default route is gone.
    case offline
    /// Another process opened a TCP connection to `remote` (`ADDR:PORT`, `[ADDR]:PORT` for IPv6).
    case foreignTraffic(remote: String)

    public var description: String {
        switch self {
        case .online(let interface): "online via \(interface)"
        case .offline: "offline"
        case .foreignTraffic(let remote): "foreign traffic to \(remote)"
        }
    }
}

/// A snapshot of the monitor for `agent status`: what it believes and what it last reported.
public struct MonitorState: Sendable, Equatable, Codable {
    /// The monitor has read the routing table at least once; before that `online` means nothing.
    public var ready: Bool = false
    /// There is a usable default route.
    public var online: Bool = false
    /// The interface carrying it, while online.
    public var interface: String?
    /// When the current online or offline period began.
    public var since: Date?
    /// The last event sent on `events`.
    public var lastEvent: MonitorEvent?
    /// When it was sent.
    public var lastEventAt: Date?
    /// How many times the foreign-traffic check ticked (never while offline).
    public var foreignTrafficPolls: Int = 0
    /// How many of those read the TCP tables: only when the TCP open counters had moved.
    public var foreignTrafficScans: Int = 0
    /// Ends of other devices' connections the kernel announced while online (sock_diag).
    public var socketEnds: Int = 0
    /// How other programs' traffic is seen: "sock_diag" (every connection, short ones at
    /// their end, plus ticks for open ones), "tcp-table" (ticks only: short connections go
    /// unnoticed) or nil when the foreign-traffic trigger is off.
    public var foreignTrafficSource: String?
    /// The kernel's id of the foreign-traffic thread while it runs.
    public var trafficThread: Int32?
    /// The kernel's id of the netlink watcher thread while it runs: its wake-ups can be read
    /// from `/proc/PID/task/TID/status` (it should sleep while nothing changes).
    public var watcherThread: Int32?

    /// The state before the monitor has looked at anything.
    public init() {}
}
