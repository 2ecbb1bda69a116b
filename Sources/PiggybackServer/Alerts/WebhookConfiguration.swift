import Foundation

/// Where alerts are POSTed and how hard the server tries.
///
/// Each URL gets every event. A failed POST (no answer, or a status other than 2xx) is
/// retried after `initialBackoff`, doubling up to `maxBackoff`, `maxAttempts` times in all.
/// Updates of an alert (new matches) are sent at most once per `updateInterval`, the latest
/// count winning. At most `queueLimit` deliveries wait; beyond, the oldest is dropped, so a
/// dead receiver cannot grow the server's memory.
public struct WebhookConfiguration: Sendable {
    /// Receivers (http or https).
    public var urls: [URL]
    /// Attempts per delivery, the first included.
    public var maxAttempts: Int
    /// Wait before the first retry.
    public var initialBackoff: Duration
    /// Longest wait between retries.
    public var maxBackoff: Duration
    /// How long one POST may take.
    public var timeout: Duration
    /// Deliveries waiting (new and retries) before the oldest is dropped.
    public var queueLimit: Int
    /// Least time between two sends about the same alert.
    public var updateInterval: Duration

    /// Defaults: no receivers; 10 attempts 1 s, 2 s, 4 s … at most 5 min apart; 10 s per POST;
    /// 1000 waiting deliveries; updates once a minute per alert.
    public init(
        urls: [URL] = [], maxAttempts: Int = 10, initialBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(300),
        timeout: Duration = .seconds(10), queueLimit: Int = 1000, updateInterval: Duration = .seconds(60)
    ) {
        self.urls = urls
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.timeout = timeout
        self.queueLimit = max(1, queueLimit)
        self.updateInterval = updateInterval
    }

    /// The wait before attempt `attempt + 1`, after `attempt` failures (1-based).
    public func backoff(after attempt: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(1, attempt) {
            delay = delay * 2
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }
}
