/// Spreads a transfer's bytes over time at the controller's rate: a token bucket that may go
/// into debt, so a chunk bigger than the bucket still goes and the next one waits longer.
///
/// For a download the "bytes" are the chunk just received and the wait delays its
/// acknowledgement (70): the server sends the next chunk only when that arrives, so the ack
/// time is the download's pace. For an upload the wait comes before sending each 50.
///
/// The bookkeeping (`charge`, `delay`) is pure; `wait(for:)` sleeps on the injected clock, so
/// tests drive it with a manual clock.
public struct Pacer<C: Clock>: Sendable where C.Duration == Duration {
    /// The clock waits run on.
    public let clock: C
    /// Bytes per second.
    public private(set) var rate: Double
    /// How much may go at once after a pause, as time at the current rate (default 10 ms):
    /// small, so a pause is not followed by a burst that queues the user's packets.
    public var burst: Duration
    /// Bytes available now; negative is debt.
    private var balance: Double = 0
    private var updated: C.Instant

    /// A pacer at `rate` bytes per second, starting with an empty bucket.
    public init(clock: C, rate: Double, burst: Duration = .milliseconds(10)) {
        self.clock = clock
        self.rate = max(1, rate)
        self.burst = burst
        self.updated = clock.now
    }

    /// Changes the rate from `now` on; what accrued until now accrued at the old rate.
    public mutating func setRate(_ rate: Double, at now: C.Instant) {
        refill(at: now)
        self.rate = max(1, rate)
        balance = min(balance, capacity)
    }

    /// Takes `bytes` from the bucket and returns how long to wait before the next send (or
    /// acknowledgement) may go; zero when the bucket covered them.
    @discardableResult
    public mutating func charge(_ bytes: Int, at now: C.Instant) -> Duration {
        refill(at: now)
        balance -= Double(max(0, bytes))
        return delay(at: now)
    }

    /// How long from `now` until the debt is paid at the current rate.
    public func delay(at now: C.Instant) -> Duration {
        let accrued = rate * max(0, updated.duration(to: now).seconds)
        let projected = min(capacity, balance + accrued)
        let seconds: Double = -projected / rate
        return projected >= 0 ? .zero : .seconds(seconds)
    }

    /// Charges `bytes` and sleeps until they are paid for. Throws when the task is cancelled.
    public mutating func wait(for bytes: Int) async throws {
        let now = clock.now
        let pause = charge(bytes, at: now)
        if pause > .zero {
            try await clock.sleep(until: now.advanced(by: pause), tolerance: nil)
        }
    }

    /// Most the bucket holds: `burst` at the current rate.
    private var capacity: Double { rate * burst.seconds }

    private mutating func refill(at now: C.Instant) {
        if now > updated {
            balance = min(capacity, balance + rate * updated.duration(to: now).seconds)
            updated = now
        }
    }
}
