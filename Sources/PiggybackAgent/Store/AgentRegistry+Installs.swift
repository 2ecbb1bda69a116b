import Foundation
import NIOCore
import PiggybackProtocol
import SQLiteNIO

/// Installation records: every verified download waits here for installation, then holds
/// its result until a 30 has carried it to the server.
extension AgentRegistry {
    /// One delivered package on its way through installation.
    public struct Install: Sendable, Equatable {
        public var itemID: String
        public var manifest: WirePackageManifest
        /// The verified artifact on disk.
        public var artifact: String
        /// downloaded, installed, failed, rolled_back, removed, refused.
        public var state: String
        public var detail: String
        public var exitCode: Int32
        public var updatedAt: Date
    }

    func migrateInstalls() async throws {
        _ = try await connection.query("""
            CREATE TABLE IF NOT EXISTS installs (
              item_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, manifest BLOB NOT NULL,
              artifact TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL, exit_code INTEGER NOT NULL,
              updated_at REAL NOT NULL, reported INTEGER NOT NULL)
            """)
    }

    /// Queues a verified artifact for installation (replacing an earlier record of the item).
    public func queueInstall(itemID: String, manifest: WirePackageManifest, artifact: String) async throws {
        try await saveInstall(Install(itemID: itemID, manifest: manifest, artifact: artifact, state: "downloaded", detail: "", exitCode: 0, updatedAt: Date()), reported: true)
    }

    /// Records the result of installing (or refusing, or removing) an item; it is reported with the next 30.
    public func recordInstall(_ install: Install) async throws {
        try await saveInstall(install, reported: false)
    }

    func saveInstall(_ install: Install, reported: Bool) async throws {
        let manifest: [UInt8] = try install.manifest.serializedBytes()
        _ = try await connection.query(
            """
            INSERT OR REPLACE INTO installs (item_id, name, version, manifest, artifact, state, detail, exit_code, updated_at, reported)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(install.itemID), .text(install.manifest.name), .text(install.manifest.version), .blob(ByteBuffer(bytes: manifest)),
             .text(install.artifact), .text(install.state), .text(String(install.detail.prefix(8192))), .integer(Int(install.exitCode)),
             .float(install.updatedAt.timeIntervalSince1970), .integer(reported ? 1 : 0)]
        )
    }

    /// Installs in `state` (e.g. `downloaded`: waiting to be installed), oldest first.
    public func installs(state: String? = nil, unreportedOnly: Bool = false) async throws -> [Install] {
        var sql = "SELECT * FROM installs WHERE 1 = 1"
        var binds: [SQLiteData] = []
        if let state {
            sql += " AND state = ?"
            binds.append(.text(state))
        }
        if unreportedOnly { sql += " AND reported = 0" }
        return try await connection.query(sql + " ORDER BY updated_at", binds).compactMap { row in
            guard case .blob(var buffer)? = row.column("manifest"),
                let manifest = try? WirePackageManifest(serializedBytes: buffer.readBytes(length: buffer.readableBytes) ?? [])
            else { return nil }
            return Install(
                itemID: row.column("item_id")?.string ?? "", manifest: manifest, artifact: row.column("artifact")?.string ?? "",
                state: row.column("state")?.string ?? "", detail: row.column("detail")?.string ?? "",
                exitCode: Int32(clamping: row.column("exit_code")?.integer ?? 0),
                updatedAt: Date(timeIntervalSince1970: row.column("updated_at")?.double ?? 0)
            )
        }
    }

    /// Marks results as carried to the server (after the session that sent them ended well).
    public func markReported(_ itemIDs: [String]) async throws {
        for id in itemIDs {
            _ = try await connection.query("UPDATE installs SET reported = 1 WHERE item_id = ?", [.text(id)])
        }
    }

    /// The installed package of each name (the newest record), for the `piggyback` inventory
    /// section and for removing what a new package supersedes.
    public func installedPackages() async throws -> [Install] {
        var byName: [String: Install] = [:]
        for install in try await installs(state: "installed") { byName[install.manifest.name] = install }
        return byName.values.sorted { $0.manifest.name < $1.manifest.name }
    }
}

extension AgentRegistry.Install {
    /// The installed package as the inventory reports it.
    var package: AgentRegistry.Package {
        AgentRegistry.Package(
            name: manifest.name, version: manifest.version, sha256: Hex.encode(manifest.sha256), size: Int64(manifest.size), path: artifact
        )
    }

    /// The result as it travels in a 30.
    var report: WireInstallReport {
        var report = WireInstallReport()
        report.itemID = itemID
        report.name = manifest.name
        report.version = manifest.version
        report.sha256 = manifest.sha256
        report.state = state
        report.detail = detail
        report.exitCode = exitCode
        report.timeUnixMs = Int64(updatedAt.timeIntervalSince1970 * 1000)
        return report
    }
}
