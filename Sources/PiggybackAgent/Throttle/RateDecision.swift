/// What the rate controller allows now, and why: the pacer's rate, the chunk size to use,
/// and a reason `agent status` and `--trace` can show the user.
public struct RateDecision: Sendable, Equatable, CustomStringConvertible {
    /// Why the rate is what it is.
    public enum Reason: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Nothing else wants the link: we use the idle capacity we learned.
        case unlimited
        /// Someone else's traffic appeared on the terminal's interface: we yield to it.
        case foreignTraffic = "foreign_traffic"
        /// Round trips grew past the target: a queue is building (someone we cannot see, or
        /// a slower link).
        case delay
        /// Other processes need the CPU.
        case cpu
        /// A configured cap (bytes per second, or a share of the link) holds us back.
        case cap
        /// The link is metered; the metered gate rate applies.
        case gateMetered = "gate_metered"
        /// The terminal is on battery; the battery gate rate applies.
        case gateBattery = "gate_battery"
        /// A brief periodic slow-down that lets the queue drain, so the base delay is re-learned.
        case probingBaseDelay = "probing_base_delay"
        /// Quiet again after yielding (or just started): climbing back to the link rate.
        case recovering

        /// A short phrase for humans.
        public var description: String {
            switch self {
            case .unlimited: "using idle capacity"
            case .foreignTraffic: "yielding to other traffic"
            case .delay: "yielding: round trips above target"
            case .cpu: "yielding: CPU busy"
            case .cap: "capped by configuration"
            case .gateMetered: "metered link"
            case .gateBattery: "on battery"
            case .probingBaseDelay: "brief pause to re-measure the base delay"
            case .recovering: "ramping up"
            }
        }
    }

    /// The allowed rate in bytes per second (always positive and finite).
    public var bytesPerSecond: Double
    /// The chunk size to use at this rate: small enough that one chunk occupies the link only
    /// for a few milliseconds, so it adds little delay to the user's packets behind it.
    public var chunkSize: Int
    /// Why.
    public var reason: Reason
    /// The link rate learned so far (bytes/s), nil before the first measurement.
    public var linkRate: Double?
    /// The learned base (empty-queue) round-trip time, nil before the first delay sample.
    public var baseDelay: Duration?
    /// The latest queuing delay (round trip minus base), nil without a delay sample.
    public var queuingDelay: Duration?

    /// A decision as given.
    public init(bytesPerSecond: Double, chunkSize: Int, reason: Reason, linkRate: Double? = nil,
                baseDelay: Duration? = nil, queuingDelay: Duration? = nil) {
        self.bytesPerSecond = bytesPerSecond
        self.chunkSize = chunkSize
        self.reason = reason
        self.linkRate = linkRate
        self.baseDelay = baseDelay
        self.queuingDelay = queuingDelay
    }

    /// One line for `agent status` and `--trace`, e.g.
    /// "16.0 KiB/s, yielding to other traffic (link 2.4 MiB/s, base RTT 41 ms, queue 3 ms)".
    public var description: String {
        var details: [String] = []
        if let linkRate { details.append("link \(Self.format(rate: linkRate))") }
        if let baseDelay { details.append("base RTT \(Self.milliseconds(baseDelay)) ms") }
        if let queuingDelay { details.append("queue \(Self.milliseconds(queuingDelay)) ms") }
        let suffix = details.isEmpty ? "" : " (" + details.joined(separator: ", ") + ")"
        return "\(Self.format(rate: bytesPerSecond)), \(reason)\(suffix)"
    }

    /// A rate with a binary unit and one decimal: "512.0 KiB/s".
    public static func format(rate: Double) -> String {
        let units = ["B/s", "KiB/s", "MiB/s", "GiB/s"]
        var value = max(0, rate)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int((duration.seconds * 1000).rounded())
    }
}
