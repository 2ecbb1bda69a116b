import NIOCore

/// Caps how often the discovery responder answers, so it cannot be turned into a
/// reflector against a spoofed source.
///
/// Two token buckets: one per source address (answers per second to one address) and one
/// shared by all sources (answers per second in total, which bounds the work a flood of
/// spoofed sources can buy). The per-source table is bounded; idle entries are dropped.
/// Confined to the responder's event loop, hence a value type with mutating methods.
struct DiscoveryRateLimiter {
    /// Answers per second (and burst) to one source address.
    var perSource: Double
    /// Answers per second (and burst) to all sources together.
    var total: Double
    /// Most source addresses remembered at once; beyond this, new sources wait for idle ones to age out.
    var maxSources: Int

    private var buckets: [String: Bucket] = [:]
    private var global: Bucket
    private var lastPrune = NIODeadline.uptimeNanoseconds(0)

    struct Bucket {
        var tokens: Double
        var updated: NIODeadline

        /// Refills at `rate` per second up to `rate`, then takes one token if there is one.
        mutating func take(rate: Double, now: NIODeadline) -> Bool {
            let elapsed = Double((now - updated).nanoseconds) / 1e9
            tokens = min(rate, tokens + max(0, elapsed) * rate)
            updated = now
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }

        /// Full again by `now`: nothing is lost by forgetting it.
        func isIdle(rate: Double, now: NIODeadline) -> Bool {
            tokens + Double((now - updated).nanoseconds) / 1e9 * rate >= rate
        }
    }

    /// Creates a limiter; rates are answers per second, each also the burst size.
    init(perSource: Double = 10, total: Double = 200, maxSources: Int = 4096, now: NIODeadline = .now()) {
        self.perSource = perSource
        self.total = total
        self.maxSources = maxSources
        self.global = Bucket(tokens: total, updated: now)
    }

    /// Whether one more answer to `source` (an IP address, port ignored) is allowed now.
    mutating func allow(source: String, now: NIODeadline = .now()) -> Bool {
        var bucket: Bucket
        if let known = buckets[source] {
            bucket = known
        } else {
            if buckets.count >= maxSources { prune(now: now) }
            guard buckets.count < maxSources else { return false }
            bucket = Bucket(tokens: perSource, updated: now)
        }
        let allowed = bucket.take(rate: perSource, now: now)
        buckets[source] = bucket
        guard allowed else { return false }
        return global.take(rate: total, now: now)
    }

    /// Forgets sources whose bucket has refilled; at most ten times a second.
    private mutating func prune(now: NIODeadline) {
        guard now - lastPrune >= .milliseconds(100) else { return }
        lastPrune = now
        let rate = perSource
        buckets = buckets.filter { !$0.value.isIdle(rate: rate, now: now) }
    }
}
