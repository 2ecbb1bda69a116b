import Foundation

/// What `piggyback agent status` shows: the monitor, the last trigger, the last session.
public struct DaemonStatus: Sendable, Codable, Equatable {
    public struct Trigger: Sendable, Codable, Equatable {
        public var kinds: [String]
        public var at: Date
    }

    public struct Session: Sendable, Codable, Equatable {
        public var started: Date
        public var ended: Date
        public var result: String
        public var server: String?
        /// Why that server (list position, distance, broadcast answer).
        public var serverReason: String?
        public var summary: String?
    }

    /// `online`, `offline` or `unknown`, and the interface carrying the default route.
    public var network = "unknown"
    public var interface: String?
    /// The monitor's last event, e.g. `foreign-traffic 10.0.0.2:443`.
    public var lastEvent: String?
    public var lastEventAt: Date?
    public var lastTrigger: Trigger?
    public var lastSession: Session?
    /// Conditions and policy read for the last session.
    public var conditions: SessionConditions?
    public var policy: SessionPolicy?
    /// A session is running now.
    public var busy = false
    /// When the next session is due (after debounce, minimum interval and jitter).
    public var nextSessionAt: Date?
    /// The running session's transfers: progress, rate, and why the throttle chose it.
    public var transfers: [TransferBoard.Transfer]?
    public var pid = Int(getpid())
    public var startedAt = Date()

    public init() {}
}

/// The daemon's shared status, updated by its loop and read by the control socket.
public actor DaemonStatusBox {
    public private(set) var status = DaemonStatus()

    public init() {}

    /// Applies `change` to the status.
    public func update(_ change: @Sendable (inout DaemonStatus) -> Void) {
        change(&status)
    }
}
