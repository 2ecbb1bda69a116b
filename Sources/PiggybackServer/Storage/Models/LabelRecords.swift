import FluentKit
import Foundation

/// A label on a device (`site=osaka`): groups for inventory requests and assignments.
final class DeviceLabelRecord: Model, @unchecked Sendable {
    static let schema = "device_labels"

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "key") var key: String
    @Field(key: "value") var value: String

    init() {}

    init(deviceID: String, key: String, value: String) {
        self.deviceID = deviceID
        self.key = key
        self.value = value
    }
}

/// Which inventory sections the server asks for in 1020, for one scope: the fleet
/// (`fleet`), a label (`label:site=osaka`) or a device (`device:ID`).
final class InventoryRequestRecord: Model, @unchecked Sendable {
    static let schema = "inventory_requests"

    @ID(custom: .id, generatedBy: .user) var id: String?
    /// Comma-separated section names; empty means every section.
    @Field(key: "sections") var sections: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(scope: String, sections: [String]) {
        self.id = scope
        self.sections = sections.joined(separator: ",")
        self.updatedAt = Date()
    }
}
