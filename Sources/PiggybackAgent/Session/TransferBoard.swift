import Foundation

/// Where each transfer of the running session stands, for `agent status` and the progress
/// bar of `agent --once`: bytes done of total, and the rate the throttle allows and why.
public actor TransferBoard {
    /// One transfer (a download or an upload).
    public struct Transfer: Sendable, Codable, Equatable {
        /// `download` or `upload`.
        public var direction: String
        /// Package name@version, or the path being collected.
        public var name: String
        public var done: UInt64
        public var total: UInt64
        /// Bytes per second over the last second or so.
        public var bytesPerSecond: Double
        /// The throttle's decision and signals, e.g. `16.0 KiB/s, yielding to other traffic (…)`.
        public var throttle: String
        /// The decision's reason alone (`foreignTraffic`, `delay`, …) for scripts.
        public var reason: String

        /// A transfer's state as the board keeps it.
        public init(direction: String, name: String, done: UInt64, total: UInt64, bytesPerSecond: Double, throttle: String, reason: String) {
            self.direction = direction
            self.name = name
            self.done = done
            self.total = total
            self.bytesPerSecond = bytesPerSecond
            self.throttle = throttle
            self.reason = reason
        }
    }

    private var transfers: [String: Transfer] = [:]
    private var order: [String] = []
    private var rates: [String: (at: ContinuousClock.Instant, done: UInt64)] = [:]

    public init() {}

    /// The transfers running now, in the order they began.
    public var current: [Transfer] { order.compactMap { transfers[$0] } }

    /// Records progress (the rate is measured here, between updates at least 0.5 s apart).
    public func update(_ key: String, direction: String, name: String, done: UInt64, total: UInt64, throttle: String, reason: String) {
        if transfers[key] == nil { order.append(key) }
        let now = ContinuousClock.now
        var rate = transfers[key]?.bytesPerSecond ?? 0
        if let last = rates[key] {
            let elapsed = (now - last.at).seconds
            if elapsed >= 0.5 {
                rate = Double(done &- last.done) / elapsed
                rates[key] = (now, done)
            }
        } else {
            rates[key] = (now, done)
        }
        transfers[key] = Transfer(direction: direction, name: name, done: done, total: total, bytesPerSecond: rate, throttle: throttle, reason: reason)
    }

    /// The transfer ended (done, failed or cut).
    public func finish(_ key: String) {
        transfers[key] = nil
        rates[key] = nil
        order.removeAll { $0 == key }
    }

    /// Forgets everything (the session ended).
    public func clear() {
        transfers = [:]
        rates = [:]
        order = []
    }
}
