import CoreMetrics
import Prometheus
import Synchronization

/// The server's counters, exported in the Prometheus text format on the admin listener
/// (`GET /metrics`).
///
/// Why a registry per instance instead of `MetricsSystem.bootstrap`: the global bootstrap may
/// run once per process, and a process may hold several servers (tests start dozens), each
/// of which must show its own counts. The counters are swift-metrics `Counter`s made by a
/// ``factory`` bound to this instance's registry; hand ``factory`` to any component that
/// takes a swift-metrics factory to have its metrics on the same page.
public final class ServerMetrics: Sendable {
    /// Where every metric of this server is registered.
    public let registry: PrometheusCollectorRegistry
    /// A swift-metrics factory that creates metrics in ``registry``.
    public let factory: PrometheusMetricsFactory
    /// Counters with dimensions, made on first use (name + dimensions → counter).
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])

    /// Metric names, so tests and documentation agree with the code.
    public enum Name {
        /// Sessions ended, by `outcome`: ok, refused (the server sent 1090), agent_error (90), dropped.
        public static let sessions = "piggyback_sessions_total"
        /// Telexes received from terminals, by `code`.
        public static let telexesReceived = "piggyback_telexes_received_total"
        /// Telexes sent to terminals, by `code`.
        public static let telexesSent = "piggyback_telexes_sent_total"
        /// Bytes of collected files received in 50 chunks.
        public static let collectedBytes = "piggyback_collected_bytes_total"
        /// Collected files stored and indexed.
        public static let collectedFiles = "piggyback_collected_files_total"
        /// Collected files answered as already held (since-last), nothing uploaded.
        public static let collectedUnchanged = "piggyback_collected_unchanged_total"
        /// Package bytes sent in 1030 chunks.
        public static let deliveredBytes = "piggyback_delivered_bytes_total"
        /// Alerts raised, by rule `severity`.
        public static let alertsRaised = "piggyback_alerts_raised_total"
        /// Webhook POSTs, by `result`: ok or failed (each failed attempt counts).
        public static let webhookDeliveries = "piggyback_webhook_deliveries_total"
        /// Files the blob sweep removed, by `kind`: blob (unreferenced content) or temporary.
        public static let sweptFiles = "piggyback_blob_sweep_removed_total"
        /// Bytes of unreferenced content the blob sweep removed.
        public static let sweptBytes = "piggyback_blob_sweep_removed_bytes_total"
    }

    /// A fresh registry with no counts.
    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The counter `name` with `dimensions`, created on first use.
    public func counter(_ name: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
        let key = ([name] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1F}")
        return counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
            counters[key] = counter
            return counter
        }
    }

    /// Adds `amount` (ignored when not positive) to counter `name`.
    public func add(_ name: String, _ amount: Int = 1, _ dimensions: [(String, String)] = []) {
        guard amount > 0 else { return }
        counter(name, dimensions).increment(by: amount)
    }

    /// The exposition text (Prometheus text format 0.0.4).
    public func render() -> String {
        registry.emitToString()
    }

    /// The `Content-Type` of ``render()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

extension ServerMetrics {
    /// One telex received from a terminal.
    func received(code: UInt16?) {
        add(Name.telexesReceived, 1, [("code", code.map { String($0) } ?? "unknown")])
    }

    /// One telex sent to a terminal.
    func sent(code: UInt16) {
        add(Name.telexesSent, 1, [("code", String(code))])
    }

    /// A session ended with `outcome` (ok, refused, agent_error, dropped).
    func sessionEnded(outcome: String) {
        add(Name.sessions, 1, [("outcome", outcome)])
    }
}
