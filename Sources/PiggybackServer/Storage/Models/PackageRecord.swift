import FluentKit
import Foundation

/// A package of the catalogue: software or data, stored content-addressed.
final class PackageRecord: Model, @unchecked Sendable {
    static let schema = "packages"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "version") var version: String
    @Field(key: "sha256") var sha256: String
    @Field(key: "size") var size: Int64
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(name: String, version: String, sha256: String, size: Int64) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.size = size
        self.createdAt = Date()
    }
}

/// An administrator's decision that a package goes to one device, or to all (device nil).
final class AssignmentRecord: Model, @unchecked Sendable {
    static let schema = "assignments"

    @ID(key: .id) var id: UUID?
    @Field(key: "package_id") var packageID: UUID
    @OptionalField(key: "device_id") var deviceID: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(packageID: UUID, deviceID: String?) {
        self.packageID = packageID
        self.deviceID = deviceID
        self.createdAt = Date()
    }
}

/// The state of one package on one device.
final class DeliveryRecord: Model, @unchecked Sendable {
    static let schema = "deliveries"

    /// Delivery states, in the order a delivery usually goes through them.
    enum State: String, Codable, Sendable {
        case pending, offered, deferred, downloading, delivered, failed
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "package_id") var packageID: UUID
    @Field(key: "state") var state: String
    @Field(key: "bytes") var bytes: Int64
    @Field(key: "detail") var detail: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(deviceID: String, packageID: UUID, state: State) {
        self.deviceID = deviceID
        self.packageID = packageID
        self.state = state.rawValue
        self.bytes = 0
        self.detail = ""
        self.updatedAt = Date()
    }
}
