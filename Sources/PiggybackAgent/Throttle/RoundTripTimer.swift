/// Measures the round trip of our acknowledgements, the delay signal that needs nothing but
/// the telex exchange: the time from a message that releases data to the data it released.
///
/// Messages and answers pair in order (first in, first out):
/// - upload: `sent` when a 50 chunk goes, `answered` when its 1070 arrives;
/// - download: `sent(count: window)` for the first 70 (it releases a whole window of
///   chunks), `sent` for each later 70 (each releases one chunk), `answered` when a 1030
///   chunk arrives.
///
/// The caller passes `takeMinimum()` to the sampler at each sample: the smallest round trip
/// since the previous one, which filters out a chunk that waited behind the agent's own
/// processing.
public struct RoundTripTimer<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Most unanswered messages remembered; beyond it the oldest are forgotten (a caller that
    /// never answers must not grow memory).
    public let capacity: Int
    private var pending: [Instant] = []
    private var head = 0
    private var minimum: Duration?

    /// An empty timer.
    public init(capacity: Int = 4096) {
        self.capacity = max(1, capacity)
    }

    /// Messages sent and not answered yet.
    public var outstanding: Int { pending.count - head }

    /// `count` messages, each awaiting one answer, went at `now`.
    public mutating func sent(at now: Instant, count: Int = 1) {
        for _ in 0..<max(0, count) { pending.append(now) }
        if outstanding > capacity { head = pending.count - capacity }
        if head > 1024, head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
    }

    /// The answer to the oldest outstanding message arrived at `now`: returns its round
    /// trip, or nil when nothing was outstanding.
    @discardableResult
    public mutating func answered(at now: Instant) -> Duration? {
        guard head < pending.count else { return nil }
        let trip = pending[head].duration(to: now)
        head += 1
        minimum = minimum.map { min($0, trip) } ?? trip
        return trip
    }

    /// The smallest round trip answered since the previous call; nil when none was.
    public mutating func takeMinimum() -> Duration? {
        defer { minimum = nil }
        return minimum
    }
}
