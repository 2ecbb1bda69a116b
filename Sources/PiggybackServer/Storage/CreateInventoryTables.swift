import FluentKit

/// Version 2 of the schema: inventory per item and its history (replaces the JSON column
/// of v1, which is no longer written).
struct CreateInventoryTables: AsyncMigration {
    var name: String { "piggyback.v2.inventory" }

    func prepare(on database: any Database) async throws {
        try await database.schema(InventoryItemRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("section", .string, .required)
            .field("key", .string, .required)
            .field("value", .string, .required)
            .unique(on: "device_id", "section", "key")
            .create()
        try await database.schema(InventoryChangeRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("version", .int64, .required)
            .field("section", .string, .required)
            .field("key", .string, .required)
            .field("old_value", .string)
            .field("new_value", .string)
            .field("changed_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(InventoryChangeRecord.schema).delete()
        try await database.schema(InventoryItemRecord.schema).delete()
    }
}
