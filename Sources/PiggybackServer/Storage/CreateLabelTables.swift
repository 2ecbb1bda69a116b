import FluentKit

/// Version 3 of the schema: device labels and per-scope inventory requests.
struct CreateLabelTables: AsyncMigration {
    var name: String { "piggyback.v3.labels" }

    func prepare(on database: any Database) async throws {
        try await database.schema(DeviceLabelRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("key", .string, .required)
            .field("value", .string, .required)
            .unique(on: "device_id", "key")
            .create()
        try await database.schema(InventoryRequestRecord.schema)
            .field(.id, .string, .identifier(auto: false))
            .field("sections", .string, .required)
            .field("updated_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(InventoryRequestRecord.schema).delete()
        try await database.schema(DeviceLabelRecord.schema).delete()
    }
}
