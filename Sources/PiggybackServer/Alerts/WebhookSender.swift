import Foundation
import Logging
import ServiceLifecycle
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends alert events as JSON POSTs to the configured receivers, retrying with backoff
/// (see ``WebhookConfiguration``). A `Service`: run it in the server's `ServiceGroup`;
/// events submitted while it is not running wait in the bounded queue.
///
/// Each POST carries `Content-Type: application/json`, `X-Piggyback-Event` (`alert.raised`
/// or `alert.updated`) and `X-Piggyback-Delivery` (the same id on every retry, so a
/// receiver can drop duplicates).
public final class WebhookSender: Service, Sendable {
    /// Receivers and retry policy.
    public let configuration: WebhookConfiguration
    let queue: WebhookQueue
    let logger: Logger
    /// Counts deliveries by result (ok, failed).
    let metrics: ServerMetrics
    private let session = Mutex<URLSession?>(nil)

    /// A sender for `configuration`'s receivers; `metrics` counts its deliveries.
    public init(configuration: WebhookConfiguration, logger: Logger, metrics: ServerMetrics = ServerMetrics()) {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.queue = WebhookQueue(configuration: configuration, logger: logger)
    }

    /// Queues an event for every receiver (returns at once).
    func submit(_ event: AdminJSON.AlertEvent) async {
        guard !configuration.urls.isEmpty else { return }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = try encoder.encode(event)
            await queue.submit(alertID: event.alert.id, event: event.event.rawValue, isUpdate: event.event == .updated, body: body)
        } catch {
            logger.error("cannot encode a webhook event", metadata: ["error": "\(error)"])
        }
    }

    /// Posts due deliveries until graceful shutdown (or cancellation).
    public func run() async throws {
        guard !configuration.urls.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        let session = URLSession(configuration: .ephemeral)
        self.session.withLock { $0 = session }
        let queue = self.queue
        let stop: @Sendable () -> Void = { [weak self] in
            Task { await queue.stop() }
            self?.session.withLock { $0?.invalidateAndCancel() }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                while let delivery = await queue.next() {
                    await send(delivery, session: session)
                }
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
        let left = await queue.waiting.count
        if left > 0 { logger.notice("webhook deliveries not sent at shutdown", metadata: ["count": "\(left)"]) }
    }

    func send(_ delivery: WebhookQueue.Delivery, session: URLSession) async {
        var request = URLRequest(url: delivery.url, timeoutInterval: Self.seconds(configuration.timeout))
        request.httpMethod = "POST"
        request.httpBody = delivery.body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("piggyback-server", forHTTPHeaderField: "User-Agent")
        request.setValue(delivery.event, forHTTPHeaderField: "X-Piggyback-Event")
        request.setValue(delivery.id.uuidString.lowercased(), forHTTPHeaderField: "X-Piggyback-Delivery")
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            guard (200..<300).contains(status) else {
                metrics.add(ServerMetrics.Name.webhookDeliveries, 1, [("result", "failed")])
                await queue.failed(delivery, reason: "HTTP \(status)")
                return
            }
            metrics.add(ServerMetrics.Name.webhookDeliveries, 1, [("result", "ok")])
            logger.debug("webhook delivered", metadata: ["url": "\(delivery.url)", "alert": "\(delivery.alertID)", "event": "\(delivery.event)"])
        } catch {
            metrics.add(ServerMetrics.Name.webhookDeliveries, 1, [("result", "failed")])
            await queue.failed(delivery, reason: error.localizedDescription)
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
