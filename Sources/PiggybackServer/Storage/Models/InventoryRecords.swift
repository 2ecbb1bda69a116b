import FluentKit
import Foundation

/// One current inventory item of a device; a delta touches only the rows it changes.
final class InventoryItemRecord: Model, @unchecked Sendable {
    static let schema = "inventory_items"

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "section") var section: String
    @Field(key: "key") var key: String
    @Field(key: "value") var value: String

    init() {}

    init(deviceID: String, section: String, key: String, value: String) {
        self.deviceID = deviceID
        self.section = section
        self.key = key
        self.value = value
    }
}

/// One change of one item: what it was, what it became, with which upload.
final class InventoryChangeRecord: Model, @unchecked Sendable {
    static let schema = "inventory_changes"

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "version") var version: Int64
    @Field(key: "section") var section: String
    @Field(key: "key") var key: String
    @OptionalField(key: "old_value") var oldValue: String?
    @OptionalField(key: "new_value") var newValue: String?
    @Field(key: "changed_at") var changedAt: Date

    init() {}

    init(deviceID: String, version: Int64, section: String, key: String, old: String?, new: String?, at: Date) {
        self.deviceID = deviceID
        self.version = version
        self.section = section
        self.key = key
        self.oldValue = old
        self.newValue = new
        self.changedAt = at
    }
}
