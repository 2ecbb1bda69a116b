import FluentKit
import Foundation
import PiggybackProtocol

/// The package catalogue, assignments, and what each device still needs.
struct Catalog: Sendable {
    let store: ServerStore
    let blobs: BlobStore

    /// Registers a package whose content is already in `file` (moved into the blob store).
    func add(name: String, version: String, file: URL) async throws -> PackageRecord {
        guard !name.isEmpty, !version.isEmpty else {
            throw ServerError(.invalid, "a package needs a name and a version")
        }
        if try await PackageRecord.query(on: store.db).filter(\.$name == name).filter(\.$version == version).first() != nil {
            try? FileManager.default.removeItem(at: file)
            throw ServerError(.conflict, "package \(name)@\(version) already exists; give the new content a new version")
        }
        let size = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
        let digest = try blobs.commit(file: file)
        let record = PackageRecord(name: name, version: version, sha256: digest, size: size)
        try await record.create(on: store.db)
        return record
    }

    /// All packages, newest first.
    func packages() async throws -> [PackageRecord] {
        try await PackageRecord.query(on: store.db).sort(\.$createdAt, .descending).all()
    }

    /// Finds `name` at `version`, or its newest version when `version` is nil.
    func package(name: String, version: String?) async throws -> PackageRecord {
        var query = PackageRecord.query(on: store.db).filter(\.$name == name)
        if let version { query = query.filter(\.$version == version) }
        guard let record = try await query.sort(\.$createdAt, .descending).first() else {
            throw ServerError(.notFound, "no package \(name)\(version.map { "@\($0)" } ?? ""); see `piggyback admin packages`")
        }
        return record
    }

    /// Assigns a package to one device or to all.
    func assign(package: PackageRecord, deviceID: String?) async throws -> AssignmentRecord {
        if let deviceID, try await DeviceRecord.find(deviceID, on: store.db) == nil {
            throw ServerError(.notFound, "no device \(deviceID); see `piggyback admin devices`")
        }
        let assignment = AssignmentRecord(packageID: try package.requireID(), deviceID: deviceID)
        try await assignment.create(on: store.db)
        return assignment
    }

    /// Packages assigned to the device (directly or to all) that it does not have yet.
    func pending(for deviceID: String) async throws -> [PackageRecord] {
        let assignments = try await AssignmentRecord.query(on: store.db).group(.or) { group in
            group.filter(\.$deviceID == deviceID).filter(\.$deviceID == nil)
        }.all()
        let delivered = Set(
            try await DeliveryRecord.query(on: store.db)
                .filter(\.$deviceID == deviceID)
                .filter(\.$state == DeliveryRecord.State.delivered.rawValue)
                .all().map(\.packageID)
        )
        var seen = Set<UUID>()
        let wanted = assignments.map(\.packageID).filter { !delivered.contains($0) && seen.insert($0).inserted }
        guard !wanted.isEmpty else { return [] }
        return try await PackageRecord.query(on: store.db).filter(\.$id ~~ wanted).sort(\.$createdAt).all()
    }

    /// Records a delivery state change for one device and package.
    func record(deviceID: String, packageID: UUID, state: DeliveryRecord.State, bytes: Int64? = nil, detail: String = "") async throws {
        let existing = try await DeliveryRecord.query(on: store.db)
            .filter(\.$deviceID == deviceID).filter(\.$packageID == packageID).first()
        let record = existing ?? DeliveryRecord(deviceID: deviceID, packageID: packageID, state: state)
        record.state = state.rawValue
        if let bytes { record.bytes = bytes }
        record.detail = detail
        record.updatedAt = Date()
        try await record.save(on: store.db)
    }
}
