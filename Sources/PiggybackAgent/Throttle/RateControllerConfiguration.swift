/// Every knob of the rate controller, with defaults chosen to yield faster and add less
/// delay than LEDBAT (RFC 6817: 100 ms target, halving per RTT) while still using the idle
/// capacity. Rates are bytes per second of payload.
public struct RateControllerConfiguration: Sendable, Equatable {
    /// The lowest rate when yielding (default 16 KiB/s): enough to keep a session alive and
    /// to keep measuring, too little for the user to notice on any link we expect.
    public var floorRate: Double = 16 * 1024
    /// The rate the first transfer starts at before anything is learned (default 64 KiB/s).
    public var initialRate: Double = 64 * 1024
    /// Absolute cap (default none). Wins over the floor when set below it.
    public var maxRate: Double?
    /// Cap as a share of the learned link rate (default 1: no cap), like Delivery
    /// Optimization's percentage caps. The link rate is learned while uncapped (the startup
    /// ramp of the first second or two, which this cap does not hold back) and kept while
    /// capped, so the cap does not spiral down.
    public var maxShareOfLink: Double = 1
    /// The rate while the link is metered (default nil: the floor).
    public var meteredRate: Double?
    /// The rate while the terminal is on battery (default nil: the floor).
    public var batteryRate: Double?

    /// Queuing delay (round trip above the learned base) beyond which we yield to the floor
    /// (default 25 ms, a quarter of LEDBAT's 100 ms): a queue this long is someone else's
    /// traffic or a slower link, never our own pacing.
    public var targetQueuingDelay: Duration = .milliseconds(25)
    /// Queuing delay our own traffic may add while using idle capacity (default 4 ms). Below
    /// it the rate grows, above it the rate shrinks in proportion, as LEDBAT does around its
    /// target; the queue then swings between empty and about twice this, so the user's
    /// packets wait at most about 8 ms behind ours.
    public var cruiseQueuingDelay: Duration = .milliseconds(4)
    /// How fast the rate follows the queuing delay while cruising, per second (default 0.5):
    /// with an empty queue the rate grows by about 5 % per 100 ms sample; larger gains
    /// overshoot further before the delay signal (a round trip late) catches up.
    public var delayGain: Double = 0.5

    /// Foreign traffic (bytes/s) the controller ignores (default 32 KiB/s): ARP, NTP, a
    /// chat client's keepalives. More than this plus `foreignShare` of our own rate is the
    /// user at work, and we yield.
    public var foreignThreshold: Double = 32 * 1024
    /// Counting noise allowed in proportion to our own rate (default 0.05): headers and
    /// chunk timing that the overhead estimate does not catch.
    public var foreignShare: Double = 0.05
    /// Yield when another program opens a TCP connection on this terminal (default true):
    /// a 200 KB fetch is mostly over before its bytes exceed the threshold above, but its
    /// handshake shows at the next sample. A chatty terminal keeps the agent at its floor.
    public var yieldToNewConnections = true
    /// Other processes' share of all CPUs above which we yield (default 0.9).
    public var cpuBusyThreshold: Double = 0.9
    /// PSI `some` share (time some task waited for a CPU) above which we yield (default 0.3).
    public var cpuPressureThreshold: Double = 0.3

    /// Factor applied to the rate on a congestion signal, never below the floor (default 0:
    /// straight to the floor within one sample; 0.5 would halve it per sample like LEDBAT).
    public var backoffFactor: Double = 0
    /// How long all signals must be quiet before climbing back (default 1 s): a user's
    /// request–response traffic has gaps shorter than this.
    public var quietPeriod: Duration = .seconds(1)
    /// Time constant of the climb back toward the learned link rate (default 1 s): 63 % of
    /// the gap closed after 1 s, 80 % after 1.6 s, so reclaim takes ≤ 3 s after the quiet
    /// period.
    public var recoveryTimeConstant: Duration = .seconds(1)
    /// Share of the learned link rate the climb aims at before cruising takes over (default 0.95).
    public var recoveryShare: Double = 0.95
    /// With no link rate learned yet, the rate doubles every this long (default 200 ms)
    /// until the queue grows or the transfer cannot follow.
    public var startupDoublingTime: Duration = .milliseconds(200)

    /// Window of our own throughput measurement (default 500 ms).
    public var throughputWindow: Duration = .milliseconds(500)
    /// How long the link rate (the highest throughput achieved while uncapped and without
    /// congestion) is remembered (default 30 s, in three buckets). Without new measurements
    /// (while yielding) the last estimate is kept, so recovery aims at the right rate.
    public var linkRateWindow: Duration = .seconds(30)
    /// Bucket of the base-delay minimum (default 60 s), as in LEDBAT.
    public var baseDelayBucket: Duration = .seconds(60)
    /// Buckets kept for the base delay (default 10: a 10-minute minimum).
    public var baseDelayBuckets: Int = 10
    /// Every this long while cruising (default 60 s), the rate drops to the floor for
    /// `baseProbeDuration`, so our own queue drains and the base delay is measured afresh.
    public var baseProbeInterval: Duration = .seconds(60)
    /// Length of that slow-down (default 200 ms: a few round trips; costs 0.3 % of capacity).
    public var baseProbeDuration: Duration = .milliseconds(200)
    /// When the delay stays above target this long while we are at the floor and nothing
    /// foreign is seen locally, and it varies less than `rebaseMaxSpread` (a new route, not a
    /// queue that someone's TCP keeps filling and draining), the base delay is re-learned
    /// (default 15 s).
    public var rebaseAfter: Duration = .seconds(15)
    /// See `rebaseAfter` (default 10 ms).
    public var rebaseMaxSpread: Duration = .milliseconds(10)

    /// A chunk should occupy the link this long at the allowed rate (default 8 ms), so the
    /// user's packets queued behind one chunk wait at most that long.
    public var chunkDuration: Duration = .milliseconds(8)
    /// Smallest suggested chunk (default 4 KiB): below that per-chunk overhead dominates.
    public var minChunkSize: Int = 4 * 1024
    /// Largest suggested chunk (default 256 KiB, the session's default chunk size).
    public var maxChunkSize: Int = 256 * 1024

    /// The defaults described on each property.
    public init() {}
}
