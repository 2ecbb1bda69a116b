import FluentKit

/// Version 5 of the schema: what issue 5's delivery needs on top of the skeleton's tables.
///
/// Packages get their install instructions, region, rule and signed manifest; assignments
/// can name a label instead of a device; deliveries remember why an item was chosen and
/// whether a failure is final. New columns are optional so the migration is a plain
/// `ADD COLUMN` on both SQLite and PostgreSQL, with no table rebuild.
struct CreateDeliveryColumns: AsyncMigration {
    var name: String { "piggyback.v5.delivery" }

    /// The new columns, table by table. SQLite adds one column per `ALTER TABLE`, so each
    /// gets its own statement.
    static let columns: [(table: String, name: String, type: DatabaseSchema.DataType)] = [
        (PackageRecord.schema, "kind", .string), (PackageRecord.schema, "target", .string),
        (PackageRecord.schema, "script", .string), (PackageRecord.schema, "check_command", .string),
        (PackageRecord.schema, "timeout_s", .int), (PackageRecord.schema, "region", .string),
        (PackageRecord.schema, "region_summary", .string), (PackageRecord.schema, "rule", .string),
        (PackageRecord.schema, "supersedes", .string), (PackageRecord.schema, "deb_package", .string),
        (PackageRecord.schema, "deb_version", .string), (PackageRecord.schema, "manifest", .data),
        (PackageRecord.schema, "signature", .data),
        (AssignmentRecord.schema, "label_key", .string), (AssignmentRecord.schema, "label_value", .string),
        (DeliveryRecord.schema, "reason", .string), (DeliveryRecord.schema, "final", .bool),
    ]

    func prepare(on database: any Database) async throws {
        for column in Self.columns {
            try await database.schema(column.table).field(.definition(name: .key(FieldKey(stringLiteral: column.name)), dataType: column.type, constraints: [])).update()
        }
    }

    func revert(on database: any Database) async throws {
        for column in Self.columns.reversed() {
            try await database.schema(column.table).deleteField(FieldKey(stringLiteral: column.name)).update()
        }
    }
}
