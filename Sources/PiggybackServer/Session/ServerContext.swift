import Synchronization
import Foundation
import Logging
import PiggybackProtocol

/// What every session and admin request shares: storage, catalogue, configuration.
struct ServerContext: Sendable {
    let configuration: ServerConfiguration
    let serverID: String
    let store: ServerStore
    let blobs: BlobStore
    let catalog: Catalog
    let collections: Collections
    let enrollment: Enrollment
    let inventory: InventoryStore
    let requests: InventoryRequests
    /// Log rules, alerts, analysis of collected files, webhooks (issue 6).
    let alerts: AlertCenter
    let authority: CertificateAuthority
    /// Counters for `GET /metrics`, one registry per server.
    let metrics: ServerMetrics
    let logger: Logger
    /// Agent endpoints, set once the listener is bound (the port may be chosen at bind time).
    let endpoints: EndpointBox

    init(
        configuration: ServerConfiguration, serverID: String, store: ServerStore, blobs: BlobStore, signer: PackageSigner,
        authority: CertificateAuthority, logger: Logger
    ) {
        self.configuration = configuration
        self.serverID = serverID
        self.store = store
        self.blobs = blobs
        self.catalog = Catalog(store: store, blobs: blobs, signer: signer, serverID: serverID)
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.collections = Collections(store: store, blobs: blobs, metrics: metrics)
        self.enrollment = Enrollment(store: store)
        self.inventory = InventoryStore(store: store)
        self.requests = InventoryRequests(store: store)
        self.alerts = AlertCenter(store: store, blobs: blobs, catalog: catalog, webhooks: configuration.webhooks, serverID: serverID, logger: logger, metrics: metrics)
        self.authority = authority
        self.logger = logger
        self.endpoints = EndpointBox()
    }
}

/// The agent endpoint URLs, known only after the listener has bound its port.
final class EndpointBox: Sendable {
    private let storage = Mutex<[String]>([])

    var urls: [String] { storage.withLock { $0 } }

    func set(port: Int, names: [String]) {
        let urls = names.map { name in
            let host = name.contains(":") ? "[\(name)]" : name
            return "wss://\(host):\(port)/v1/session"
        }
        storage.withLock { $0 = urls }
    }
}
