/// Our own throughput over a sliding window, from the bytes reported at each update.
///
/// Each update closes an interval (previous update, now]; the rate is the bytes of the whole
/// intervals that started within the window divided by exactly the time they span, so a
/// window that holds four intervals one time and five the next is not 20 % off.
struct ThroughputMeter<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// How far back the rate looks.
    let window: Duration
    /// (start, end, bytes) of each interval, oldest first.
    private var intervals: [(start: Instant, end: Instant, bytes: Int)] = []
    private var lastEnd: Instant?

    init(window: Duration) {
        self.window = window
    }

    /// Records `bytes` moved since the previous call; the first call only starts the clock.
    mutating func add(_ bytes: Int, at now: Instant) {
        defer { lastEnd = now }
        guard let start = lastEnd, now > start else { return }
        intervals.append((start, now, max(0, bytes)))
        while let first = intervals.first, intervals.count > 1, first.start.duration(to: now) > window {
            intervals.removeFirst()
        }
    }

    /// Bytes per second over the intervals within the window; nil until they span at least
    /// half the window (a rate from one short interval would be mostly noise).
    func rate(at now: Instant) -> Double? {
        guard let first = intervals.first, let last = intervals.last else { return nil }
        let span = first.start.duration(to: last.end).seconds
        guard span > 0, span >= window.seconds / 2 else { return nil }
        return Double(intervals.reduce(0) { $0 + $1.bytes }) / span
    }
}
