/// What makes the resident agent run a session, and how often it may.
public struct TriggerConfiguration: Sendable {
    /// The terminal got connectivity (a usable default route appeared).
    public var networkUp: Bool
    /// Another application started talking while online.
    public var foreignTraffic: Bool
    /// A session every this often regardless (nil: off — the monitor is the trigger).
    public var timer: Duration?
    /// `piggyback agent trigger` through the control socket.
    public var manual: Bool
    /// Triggers arriving within this window make one session.
    public var debounce: Duration
    /// Automatic triggers wait until this long after the previous session ended.
    public var minimumInterval: Duration
    /// A random delay up to this long, so a fleet coming online together does not stampede.
    public var jitter: Duration

    /// Defaults: network-up, foreign traffic and manual on, timer off; 2 s debounce; at most
    /// one automatic session per 5 minutes; up to 10 s of jitter.
    public init(
        networkUp: Bool = true, foreignTraffic: Bool = true, timer: Duration? = nil, manual: Bool = true,
        debounce: Duration = .seconds(2), minimumInterval: Duration = .seconds(300), jitter: Duration = .seconds(10)
    ) {
        self.networkUp = networkUp
        self.foreignTraffic = foreignTraffic
        self.timer = timer
        self.manual = manual
        self.debounce = debounce
        self.minimumInterval = minimumInterval
        self.jitter = jitter
    }

    /// Whether triggers of `kind` are acted on.
    public func enables(_ kind: TriggerKind) -> Bool {
        switch kind {
        case .networkUp: networkUp
        case .foreignTraffic: foreignTraffic
        case .timer: timer != nil
        case .manual: manual
        }
    }

    /// How long to wait before a session for `kinds`, given when the last one ended:
    /// manual triggers go at once; automatic ones respect the minimum interval, plus jitter.
    public func delay(for kinds: Set<TriggerKind>, lastSessionEnded: ContinuousClock.Instant?, now: ContinuousClock.Instant, jitterFraction: Double) -> Duration {
        if kinds.contains(.manual) { return .zero }
        var wait = Duration.zero
        if let last = lastSessionEnded {
            let ready = last + minimumInterval
            if ready > now { wait = ready - now }
        }
        return wait + jitter * min(max(jitterFraction, 0), 1)
    }
}

/// Why a session was started.
public enum TriggerKind: String, Sendable, Codable, CaseIterable, Comparable {
    case manual
    case networkUp = "network-up"
    case foreignTraffic = "foreign-traffic"
    case timer

    public static func < (a: TriggerKind, b: TriggerKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
