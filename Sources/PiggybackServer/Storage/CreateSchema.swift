import FluentKit

/// Version 1 of the server schema; the same migration runs on SQLite and PostgreSQL.
struct CreateSchema: AsyncMigration {
    var name: String { "piggyback.v1.schema" }

    func prepare(on database: any Database) async throws {
        try await database.schema(DeviceRecord.schema)
            .field("id", .string, .identifier(auto: false))
            .field("public_key", .data, .required)
            .field("state", .string, .required)
            .field("hostname", .string, .required)
            .field("enrolled_at", .datetime, .required)
            .field("last_seen", .datetime)
            .field("last_address", .string)
            .field("inventory", .string, .required)
            .field("inventory_version", .int64, .required)
            .field("position", .string)
            .field("last_result", .string)
            .create()
        try await database.schema(EnrollTokenRecord.schema)
            .id()
            .field("secret_hash", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("uses_left", .int, .required)
            .unique(on: "secret_hash")
            .create()
        try await database.schema(PackageRecord.schema)
            .id()
            .field("name", .string, .required)
            .field("version", .string, .required)
            .field("sha256", .string, .required)
            .field("size", .int64, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "name", "version")
            .create()
        try await database.schema(AssignmentRecord.schema)
            .id()
            .field("package_id", .uuid, .required, .references(PackageRecord.schema, "id", onDelete: .cascade))
            .field("device_id", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(DeliveryRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("package_id", .uuid, .required, .references(PackageRecord.schema, "id", onDelete: .cascade))
            .field("state", .string, .required)
            .field("bytes", .int64, .required)
            .field("detail", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "device_id", "package_id")
            .create()
        try await database.schema(CollectionOrderRecord.schema)
            .id()
            .field("device_id", .string)
            .field("paths", .string, .required)
            .field("max_bytes", .int64, .required)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema(CollectionRunRecord.schema)
            .id()
            .field("order_id", .uuid, .required, .references(CollectionOrderRecord.schema, "id", onDelete: .cascade))
            .field("device_id", .string, .required)
            .field("files", .int, .required)
            .field("problems", .string, .required)
            .field("completed_at", .datetime, .required)
            .unique(on: "order_id", "device_id")
            .create()
        try await database.schema(CollectedFileRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("order_id", .uuid, .required)
            .field("path", .string, .required)
            .field("size", .int64, .required)
            .field("mtime", .datetime, .required)
            .field("sha256", .string, .required)
            .field("collected_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        for schema in [
            CollectedFileRecord.schema, CollectionRunRecord.schema, CollectionOrderRecord.schema,
            DeliveryRecord.schema, AssignmentRecord.schema, PackageRecord.schema,
            EnrollTokenRecord.schema, DeviceRecord.schema,
        ] {
            try await database.schema(schema).delete()
        }
    }
}
