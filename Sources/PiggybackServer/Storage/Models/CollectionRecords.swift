import FluentKit
import Foundation

/// An order to collect files matching globs from one device or from all (device nil).
final class CollectionOrderRecord: Model, @unchecked Sendable {
    static let schema = "collection_orders"

    @ID(key: .id) var id: UUID?
    @OptionalField(key: "device_id") var deviceID: String?
    /// JSON array of globs.
    @Field(key: "paths") var paths: String
    @Field(key: "max_bytes") var maxBytes: Int64
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(deviceID: String?, paths: String, maxBytes: Int64) {
        self.deviceID = deviceID
        self.paths = paths
        self.maxBytes = maxBytes
        self.createdAt = Date()
    }
}

/// One device's completion of an order.
final class CollectionRunRecord: Model, @unchecked Sendable {
    static let schema = "collection_runs"

    @ID(key: .id) var id: UUID?
    @Field(key: "order_id") var orderID: UUID
    @Field(key: "device_id") var deviceID: String
    @Field(key: "files") var files: Int
    /// JSON array of {path, reason}.
    @Field(key: "problems") var problems: String
    @Field(key: "completed_at") var completedAt: Date

    init() {}

    init(orderID: UUID, deviceID: String, files: Int, problems: String) {
        self.orderID = orderID
        self.deviceID = deviceID
        self.files = files
        self.problems = problems
        self.completedAt = Date()
    }
}

/// A file the server holds for a device: index entry of a content-addressed blob.
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

    init() {}

    init(deviceID: String, orderID: UUID, path: String, size: Int64, mtime: Date, sha256: String) {
        self.deviceID = deviceID
        self.orderID = orderID
        self.path = path
        self.size = size
        self.mtime = mtime
        self.sha256 = sha256
        self.collectedAt = Date()
    }
}
