import FluentKit
import SQLKit

/// Version 7 of the schema: what issue 6's collection needs on top of the skeleton's tables.
///
/// Orders get a kind (files, log, journal), a label target, a repeat (once or every
/// session), since-last and delete-after; runs count how often a device completed an
/// order; index rows mark log and journal segments with their offset in the source's
/// stream. New columns are optional so the migration is a plain `ADD COLUMN` on both
/// SQLite and PostgreSQL (SQLite: one column per `ALTER TABLE`). Two indexes serve the
/// since-last lookup (device, digest) and a device's file listing.
struct CreateCollectionColumns: AsyncMigration {
    var name: String { "piggyback.v7.collection" }

    static let columns: [(table: String, name: String, type: DatabaseSchema.DataType)] = [
        (CollectionOrderRecord.schema, "kind", .string), (CollectionOrderRecord.schema, "label_key", .string),
        (CollectionOrderRecord.schema, "label_value", .string), (CollectionOrderRecord.schema, "repeat", .string),
        (CollectionOrderRecord.schema, "since_last", .bool), (CollectionOrderRecord.schema, "delete_after", .bool),
        (CollectionRunRecord.schema, "runs", .int),
        (CollectedFileRecord.schema, "segment", .bool), (CollectedFileRecord.schema, "stream_offset", .int64),
    ]

    static let indexes = [
        "CREATE INDEX IF NOT EXISTS collected_files_device_sha ON collected_files (device_id, sha256)",
        "CREATE INDEX IF NOT EXISTS collected_files_device_path ON collected_files (device_id, path)",
    ]

    func prepare(on database: any Database) async throws {
        for column in Self.columns {
            try await database.schema(column.table)
                .field(.definition(name: .key(FieldKey(stringLiteral: column.name)), dataType: column.type, constraints: [])).update()
        }
        guard let sql = database as? any SQLDatabase else { return }
        for statement in Self.indexes { try await sql.raw(SQLQueryString(statement)).run() }
    }

    func revert(on database: any Database) async throws {
        if let sql = database as? any SQLDatabase {
            for name in ["collected_files_device_sha", "collected_files_device_path"] {
                try await sql.raw(SQLQueryString("DROP INDEX IF EXISTS \(unsafeRaw: name)")).run()
            }
        }
        for column in Self.columns.reversed() {
            try await database.schema(column.table).deleteField(FieldKey(stringLiteral: column.name)).update()
        }
    }
}
