/// The minimum (or maximum) of values seen over a window, kept as one value per time bucket,
/// as LEDBAT keeps its base delay: minutes of history in a handful of numbers, and old values
/// leave a bucket at a time instead of all at once.
struct WindowedExtremum<Instant: InstantProtocol, Value: Comparable & Sendable>: Sendable where Instant.Duration == Duration {
    /// Whether the smallest or the largest value wins.
    enum Kind: Sendable {
        case minimum, maximum
    }

    let kind: Kind
    /// Time one bucket covers.
    let bucket: Duration
    /// Buckets kept; the window is `bucket * buckets`.
    let buckets: Int
    /// (start of bucket, best value in it), oldest first.
    private var entries: [(start: Instant, value: Value)] = []

    init(_ kind: Kind, bucket: Duration, buckets: Int) {
        self.kind = kind
        self.bucket = bucket
        self.buckets = max(1, buckets)
    }

    /// Adds a value seen at `now`, starting a new bucket when the current one is full.
    mutating func add(_ value: Value, at now: Instant) {
        if let last = entries.last, last.start.duration(to: now) < bucket {
            entries[entries.count - 1].value = better(last.value, value)
        } else {
            entries.append((now, value))
        }
        entries.removeAll { $0.start.duration(to: now) >= bucket * buckets }
    }

    /// The best value within the window at `now`, nil when there is none.
    func value(at now: Instant) -> Value? {
        entries.filter { $0.start.duration(to: now) < bucket * buckets }.map(\.value).reduce(nil) { best, value in
            best.map { better($0, value) } ?? value
        }
    }

    /// Forgets the history and starts again from `value` (a route change, a slower link).
    mutating func reset(to value: Value, at now: Instant) {
        entries = [(now, value)]
    }

    private func better(_ a: Value, _ b: Value) -> Value {
        kind == .minimum ? min(a, b) : max(a, b)
    }
}
