import FluentKit
import Foundation

/// An order to collect files, logs or the journal from one device, the devices carrying a
/// label, or all (neither device nor label).
///
/// The columns added by schema v7 are optional so that orders written before it read as
/// what they were: whole files, once, without since-last or delete-after.
final class CollectionOrderRecord: Model, @unchecked Sendable {
    static let schema = "collection_orders"

    /// What the paths of an order name (the wire's `CollectOrder.Kind`).
    enum Kind: String, Sendable, CaseIterable {
        case files, log, journal
    }

    /// How often a device runs the order.
    enum Repeat: String, Sendable, CaseIterable {
        /// Until the device has completed it once.
        case once
        /// In every session (standing order).
        case everySession = "every_session"
    }

    @ID(key: .id) var id: UUID?
    @OptionalField(key: "device_id") var deviceID: String?
    /// JSON array of globs (files, logs) or unit names (journal).
    @Field(key: "paths") var paths: String
    @Field(key: "max_bytes") var maxBytes: Int64
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "kind") var kindName: String?
    @OptionalField(key: "label_key") var labelKey: String?
    @OptionalField(key: "label_value") var labelValue: String?
    @OptionalField(key: "repeat") var repeatName: String?
    @OptionalField(key: "since_last") var sinceLastFlag: Bool?
    @OptionalField(key: "delete_after") var deleteAfterFlag: Bool?

    init() {}

    init(
        deviceID: String?, label: (key: String, value: String)? = nil, paths: String, maxBytes: Int64,
        kind: Kind = .files, repeat schedule: Repeat = .once, sinceLast: Bool = false, deleteAfter: Bool = false
    ) {
        self.deviceID = deviceID
        self.labelKey = label?.key
        self.labelValue = label?.value
        self.paths = paths
        self.maxBytes = maxBytes
        self.kindName = kind.rawValue
        self.repeatName = schedule.rawValue
        self.sinceLastFlag = sinceLast
        self.deleteAfterFlag = deleteAfter
        self.createdAt = Date()
    }

    var kind: Kind { kindName.flatMap(Kind.init(rawValue:)) ?? .files }
    var schedule: Repeat { repeatName.flatMap(Repeat.init(rawValue:)) ?? .once }
    var sinceLast: Bool { sinceLastFlag ?? false }
    var deleteAfter: Bool { deleteAfterFlag ?? false }

    /// The globs or units.
    var pathList: [String] { (try? JSONDecoder().decode([String].self, from: Data(paths.utf8))) ?? [] }

    /// `device:ID`, `label:KEY=VALUE` or `all`.
    var target: String {
        if let deviceID { return "device:\(deviceID)" }
        if let labelKey { return "label:\(labelKey)=\(labelValue ?? "")" }
        return "all"
    }

    /// Whether the order concerns a device with these labels.
    func targets(deviceID id: String, labels: [String: String]) -> Bool {
        if let deviceID { return deviceID == id }
        if let labelKey { return labels[labelKey] == labelValue }
        return true
    }
}

/// One device's runs of an order: upserted at each completion (the terminal's `OrderDone`).
final class CollectionRunRecord: Model, @unchecked Sendable {
    static let schema = "collection_runs"

    @ID(key: .id) var id: UUID?
    @Field(key: "order_id") var orderID: UUID
    @Field(key: "device_id") var deviceID: String
    /// Files the terminal reported for the last run.
    @Field(key: "files") var files: Int
    /// JSON array of {path, reason} of the last run.
    @Field(key: "problems") var problems: String
    /// The last run's completion.
    @Field(key: "completed_at") var completedAt: Date
    /// Completed runs (schema v7; nil on rows written before it, which count as one).
    @OptionalField(key: "runs") var runCount: Int?

    init() {}

    init(orderID: UUID, deviceID: String, files: Int, problems: String) {
        self.orderID = orderID
        self.deviceID = deviceID
        self.files = files
        self.problems = problems
        self.completedAt = Date()
        self.runCount = 1
    }

    var runs: Int { runCount ?? 1 }
}

/// A file the server holds for a device: index entry of a content-addressed blob. A log or
/// journal upload is a segment of its source's stream, starting at `streamOffset`.
final class CollectedFileRecord: Model, @unchecked Sendable {
    static let schema = "collected_files"

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "order_id") var orderID: UUID
    @Field(key: "path") var path: String
    @Field(key: "size") var size: Int64
    @Field(key: "mtime") var mtime: Date
    @Field(key: "sha256") var sha256: String
    @Field(key: "collected_at") var collectedAt: Date
    @OptionalField(key: "segment") var segmentFlag: Bool?
    @OptionalField(key: "stream_offset") var streamOffsetValue: Int64?

    init() {}

    init(deviceID: String, orderID: UUID, path: String, size: Int64, mtime: Date, sha256: String, segment: Bool = false, streamOffset: Int64 = 0) {
        self.deviceID = deviceID
        self.orderID = orderID
        self.path = path
        self.size = size
        self.mtime = mtime
        self.sha256 = sha256
        self.collectedAt = Date()
        self.segmentFlag = segment
        self.streamOffsetValue = streamOffset
    }

    var segment: Bool { segmentFlag ?? false }
    var streamOffset: Int64 { streamOffsetValue ?? 0 }
}
