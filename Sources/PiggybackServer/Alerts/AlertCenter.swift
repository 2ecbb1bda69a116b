import FluentKit
import Foundation
import Logging

/// Log rules, the alerts they raise, and the analysis of collected files (issue 6): every
/// collected file is read line by line against the rules that select its path; matches
/// raise or update alerts, which go to the webhooks, and a rule's remedy package is
/// assigned to the device so it is delivered at the next connection.
struct AlertCenter: Sendable {
    /// Sample lines kept per alert.
    static let sampleLimit = 10
    /// Characters kept of a sample line.
    static let sampleLength = 500

    let store: ServerStore
    let blobs: BlobStore
    let catalog: Catalog
    /// Where alerts are sent; run it as a service (see ``ManagementServer/services``).
    let webhooks: WebhookSender
    let serverID: String
    let logger: Logger
    /// Alerts raised by severity; webhook results.
    let metrics: ServerMetrics

    init(
        store: ServerStore, blobs: BlobStore, catalog: Catalog, webhooks: WebhookConfiguration, serverID: String, logger: Logger,
        metrics: ServerMetrics = ServerMetrics()
    ) {
        self.store = store
        self.blobs = blobs
        self.catalog = catalog
        self.webhooks = WebhookSender(configuration: webhooks, logger: logger, metrics: metrics)
        self.serverID = serverID
        self.logger = logger
        self.metrics = metrics
    }

    /// Stores a new rule; its name must be unused and its remedy package must exist.
    func addRule(_ spec: LogRuleSpec) async throws -> LogRuleRecord {
        if try await LogRuleRecord.query(on: store.db).filter(\.$name == spec.name).first() != nil {
            throw ServerError(.conflict, "a log rule named \(spec.name) exists; remove it first (piggyback admin log-rule rm \(spec.name))")
        }
        if let remedy = spec.remedy {
            do {
                _ = try await catalog.package(name: remedy, version: nil)
            } catch let error as ServerError where error.code == .notFound {
                throw ServerError(.invalid, "rule \(spec.name): the remedy package \(remedy) does not exist; add it first (piggyback admin package add)")
            }
        }
        let record = LogRuleRecord(spec)
        try await record.create(on: store.db)
        logger.notice("log rule added", metadata: ["rule": "\(spec.name)", "pattern": "\(spec.pattern)"])
        return record
    }

    /// Removes a rule and its pending counts; its alerts stay.
    func removeRule(name: String) async throws -> LogRuleRecord {
        guard let record = try await LogRuleRecord.query(on: store.db).filter(\.$name == name).first() else {
            throw ServerError(.notFound, "no log rule \(name); see `piggyback admin log-rules`")
        }
        let id = try record.requireID()
        try await AlertCounterRecord.query(on: store.db).filter(\.$ruleID == id).delete()
        try await record.delete(on: store.db)
        logger.notice("log rule removed", metadata: ["rule": "\(name)"])
        return record
    }

    /// Every rule, oldest first.
    func rules() async throws -> [LogRuleRecord] {
        try await LogRuleRecord.query(on: store.db).sort(\.$createdAt).sort(\.$name).all()
    }

    /// Alerts, most recent match first, optionally of one device or in one state.
    func alerts(deviceID: String? = nil, state: AlertRecord.State? = nil, limit: Int = 1000) async throws -> [AlertRecord] {
        var query = AlertRecord.query(on: store.db)
        if let deviceID { query = query.filter(\.$deviceID == deviceID) }
        if let state { query = query.filter(\.$state == state.rawValue) }
        return try await query.sort(\.$lastAt, .descending).limit(max(1, limit)).all()
    }

    /// Marks an alert seen: later matches of its rule on the device raise a new alert.
    func acknowledge(id: UUID) async throws -> AlertRecord {
        guard let alert = try await AlertRecord.find(id, on: store.db) else {
            throw ServerError(.notFound, "no alert \(id.uuidString.lowercased()); see `piggyback admin alerts`")
        }
        if alert.state != AlertRecord.State.acknowledged.rawValue {
            alert.state = AlertRecord.State.acknowledged.rawValue
            alert.acknowledgedAt = Date()
            alert.updatedAt = Date()
            try await alert.save(on: store.db)
            logger.notice("alert acknowledged", metadata: ["alert": "\(id)", "rule": "\(alert.ruleName)", "device": "\(alert.deviceID)"])
        }
        return alert
    }

    /// The hostnames of devices, for alert documents.
    func hostnames(_ deviceIDs: some Sequence<String>) async throws -> [String: String] {
        let ids = Array(Set(deviceIDs))
        guard !ids.isEmpty else { return [:] }
        let devices = try await DeviceRecord.query(on: store.db).filter(\.$id ~~ ids).all()
        return Dictionary(devices.compactMap { device in device.id.map { ($0, device.hostname) } }, uniquingKeysWith: { a, _ in a })
    }
}
