/// Remembers which servers failed recently, so the next attempts skip them for a while.
///
/// After the n-th failure in a row a server waits `base × 2^(n−1)`, capped at `max`, times
/// a random factor in 0.5…1 (so a fleet that lost the same server does not come back in
/// step). A success forgets the server's failures. Kept in memory: a restarted agent tries
/// every server afresh.
public actor ServerBackoff {
    /// The first wait.
    public let base: Duration
    /// The longest wait.
    public let max: Duration

    struct Entry {
        var failures: Int
        var until: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]
    private let jitter: @Sendable () -> Double

    /// Creates an empty record; `jitter` returns the random factor (tests pin it).
    public init(base: Duration = .seconds(30), max: Duration = .seconds(3600), jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...1) }) {
        self.base = base
        self.max = Swift.max(base, max)
        self.jitter = jitter
    }

    /// Records a failed attempt on `url`; returns how long it is now skipped.
    @discardableResult
    public func recordFailure(_ url: String, now: ContinuousClock.Instant = .now) -> Duration {
        let failures = (entries[url]?.failures ?? 0) + 1
        let doubled = base * Double(1 << Swift.min(failures - 1, 30))
        let wait = Swift.min(doubled, max) * Swift.min(1, Swift.max(0, jitter()))
        entries[url] = Entry(failures: failures, until: now + wait)
        return wait
    }

    /// Records a session that worked: the server is no longer skipped.
    public func recordSuccess(_ url: String) {
        entries[url] = nil
    }

    /// When `url` may be tried again, or nil when it is not being skipped.
    public func retryAt(_ url: String, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        guard let entry = entries[url], entry.until > now else { return nil }
        return entry.until
    }

    /// Failures in a row recorded for `url`.
    public func failures(_ url: String) -> Int {
        entries[url]?.failures ?? 0
    }
}
