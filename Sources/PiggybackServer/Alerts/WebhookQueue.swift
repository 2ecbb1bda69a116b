import Foundation
import Logging

/// The deliveries waiting to be POSTed, ordered by when they are due; bounded (the oldest
/// is dropped when full) and coalescing (an alert's unsent update is replaced by a newer one).
actor WebhookQueue {
    /// One POST of one event to one receiver.
    struct Delivery: Sendable {
        let id: UUID
        let url: URL
        let alertID: String
        let event: String
        var body: Data
        var attempt: Int
        var due: ContinuousClock.Instant
        let sequence: Int
    }

    let configuration: WebhookConfiguration
    let logger: Logger
    private(set) var waiting: [Delivery] = []
    private var lastScheduled: [String: ContinuousClock.Instant] = [:]
    private var sequence = 0
    private var waiter: CheckedContinuation<Void, Never>?
    private var stopped = false
    /// Deliveries dropped because the queue was full.
    private(set) var dropped = 0

    init(configuration: WebhookConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Queues `body` for every receiver. An update of an alert is due no sooner than
    /// ``WebhookConfiguration/updateInterval`` after the alert's previous send, and replaces
    /// an update of it that has not been tried yet.
    func submit(alertID: String, event: String, isUpdate: Bool, body: Data) {
        guard !stopped else { return }
        let now = ContinuousClock.now
        var due = now
        if isUpdate, let last = lastScheduled[alertID] { due = max(now, last + configuration.updateInterval) }
        for url in configuration.urls {
            if isUpdate, let index = waiting.firstIndex(where: { $0.alertID == alertID && $0.url == url && $0.event == event && $0.attempt == 0 }) {
                waiting[index].body = body
                continue
            }
            sequence += 1
            insert(Delivery(id: UUID(), url: url, alertID: alertID, event: event, body: body, attempt: 0, due: due, sequence: sequence))
        }
        lastScheduled[alertID] = max(lastScheduled[alertID] ?? due, due)
        if lastScheduled.count > 10 * configuration.queueLimit {
            lastScheduled = lastScheduled.filter { now - $0.value < configuration.updateInterval }
        }
        wake()
    }

    /// A failed delivery: again after the backoff, or given up after the last attempt.
    func failed(_ delivery: Delivery, reason: String) {
        guard !stopped else {
            // Cut off by shutdown: counted as not sent, not as given up.
            waiting.append(delivery)
            return
        }
        var next = delivery
        next.attempt += 1
        guard next.attempt < configuration.maxAttempts else {
            logger.warning("webhook delivery given up", metadata: [
                "url": "\(delivery.url)", "alert": "\(delivery.alertID)", "event": "\(delivery.event)",
                "attempts": "\(next.attempt)", "error": "\(reason)",
            ])
            return
        }
        let wait = configuration.backoff(after: next.attempt)
        next.due = ContinuousClock.now + wait
        logger.notice("webhook delivery failed; retrying", metadata: [
            "url": "\(delivery.url)", "alert": "\(delivery.alertID)", "attempt": "\(next.attempt)", "retry_in": "\(wait)", "error": "\(reason)",
        ])
        insert(next)
    }

    private func insert(_ delivery: Delivery) {
        if waiting.count >= configuration.queueLimit, let oldest = waiting.indices.min(by: { waiting[$0].sequence < waiting[$1].sequence }) {
            let lost = waiting.remove(at: oldest)
            dropped += 1
            if dropped == 1 || dropped % 100 == 0 {
                logger.warning("webhook queue full; dropped the oldest delivery", metadata: [
                    "url": "\(lost.url)", "alert": "\(lost.alertID)", "dropped": "\(dropped)", "limit": "\(configuration.queueLimit)",
                ])
            }
        }
        waiting.append(delivery)
    }

    /// The next delivery that is due, waiting until one is; nil once stopped.
    func next() async -> Delivery? {
        while !stopped {
            let now = ContinuousClock.now
            if let index = waiting.indices.filter({ waiting[$0].due <= now }).min(by: { waiting[$0].sequence < waiting[$1].sequence }) {
                return waiting.remove(at: index)
            }
            let timer = waiting.map(\.due).min().map { due in
                Task { [weak self] in
                    try? await Task.sleep(until: due, clock: .continuous)
                    await self?.wake()
                }
            }
            await withCheckedContinuation { waiter = $0 }
            timer?.cancel()
        }
        return nil
    }

    /// Ends ``next()``; later submissions are ignored.
    func stop() {
        stopped = true
        wake()
    }

    private func wake() {
        waiter?.resume()
        waiter = nil
    }
}
