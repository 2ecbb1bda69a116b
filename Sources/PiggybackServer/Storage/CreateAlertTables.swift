import FluentKit
import SQLKit

/// Version 6 of the schema: log rules, alerts, and the per-device match counts of rules
/// that have not reached their threshold (issue 6, analysis and alerts). Plain tables and
/// indexes, the same on SQLite and PostgreSQL.
struct CreateAlertTables: AsyncMigration {
    var name: String { "piggyback.v6.alerts" }

    func prepare(on database: any Database) async throws {
        try await database.schema(LogRuleRecord.schema)
            .id()
            .field("name", .string, .required)
            .field("pattern", .string, .required)
            .field("case_insensitive", .bool, .required)
            .field("path_glob", .string)
            .field("threshold", .int, .required)
            .field("window_s", .int, .required)
            .field("severity", .string, .required)
            .field("remedy", .string)
            .field("created_at", .datetime, .required)
            .unique(on: "name")
            .create()
        try await database.schema(AlertRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("rule_id", .uuid, .required)
            .field("rule_name", .string, .required)
            .field("severity", .string, .required)
            .field("state", .string, .required)
            .field("count", .int64, .required)
            .field("first_at", .datetime, .required)
            .field("last_at", .datetime, .required)
            .field("samples", .string, .required)
            .field("path", .string, .required)
            .field("remedy", .string)
            .field("remedy_assigned", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("acknowledged_at", .datetime)
            .create()
        try await database.schema(AlertCounterRecord.schema)
            .id()
            .field("device_id", .string, .required)
            .field("rule_id", .uuid, .required)
            .field("pending", .string, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "device_id", "rule_id")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.raw("CREATE INDEX IF NOT EXISTS alerts_device_rule_state ON alerts (device_id, rule_id, state)").run()
            try await sql.raw("CREATE INDEX IF NOT EXISTS alerts_last_at ON alerts (last_at)").run()
        }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            try await sql.raw("DROP INDEX IF EXISTS alerts_last_at").run()
            try await sql.raw("DROP INDEX IF EXISTS alerts_device_rule_state").run()
        }
        try await database.schema(AlertCounterRecord.schema).delete()
        try await database.schema(AlertRecord.schema).delete()
        try await database.schema(LogRuleRecord.schema).delete()
    }
}
