import FluentKit
import Foundation
import Logging
import PiggybackProtocol

/// The package catalogue, assignments, and the state of each package on each device.
struct Catalog: Sendable {
    let store: ServerStore
    let blobs: BlobStore
    let signer: PackageSigner
    let serverID: String
    /// Packages and regions held in memory for the per-session choice.
    let index: CatalogIndex

    init(store: ServerStore, blobs: BlobStore, signer: PackageSigner, serverID: String) {
        self.store = store
        self.blobs = blobs
        self.signer = signer
        self.serverID = serverID
        self.index = CatalogIndex(store: store)
    }

    /// Registers a package whose content is already a blob (see `PUT /v1/uploads`), signing its manifest.
    func add(_ spec: PackageSpec, sha256: String) async throws -> PackageRecord {
        guard let size = blobs.size(sha256: sha256) else {
            throw ServerError(.notFound, "no uploaded content with SHA-256 \(sha256); upload the file first")
        }
        if try await PackageRecord.query(on: store.db).filter(\.$name == spec.name).filter(\.$version == spec.version).first() != nil {
            throw ServerError(.conflict, "package \(spec.name)@\(spec.version) already exists; give the new content a new version")
        }
        let record = PackageRecord(name: spec.name, version: spec.version, sha256: sha256, size: Int64(size))
        record.kind = spec.kind.rawValue
        record.target = spec.target.isEmpty ? nil : spec.target
        record.script = spec.script.isEmpty ? nil : spec.script
        record.check = spec.check.isEmpty ? nil : spec.check
        record.timeoutSeconds = spec.timeoutSeconds
        record.region = spec.region?.json
        record.regionSummary = spec.region?.summary
        record.rule = spec.rule?.text
        record.supersedes = spec.supersedes.isEmpty ? nil : spec.supersedes.joined(separator: ",")
        if spec.kind == .deb {
            let control = try DebianControl.read(blobs.url(sha256: sha256))
            record.debPackage = control.package
            record.debVersion = control.version
        }
        let signed = try signer.sign(spec.manifest(sha256: sha256, size: Int64(size), serverID: serverID))
        record.manifest = signed.manifest
        record.signature = signed.signature
        try await record.create(on: store.db)
        await index.invalidate()
        return record
    }

    /// Removes a package, its assignments and delivery records; the blob goes when no other
    /// package and no collected file (the store is shared, by content) uses it.
    func remove(_ package: PackageRecord) async throws {
        let id = try package.requireID()
        try await AssignmentRecord.query(on: store.db).filter(\.$packageID == id).delete()
        try await DeliveryRecord.query(on: store.db).filter(\.$packageID == id).delete()
        try await package.delete(on: store.db)
        if try await PackageRecord.query(on: store.db).filter(\.$sha256 == package.sha256).count() == 0,
           try await CollectedFileRecord.query(on: store.db).filter(\.$sha256 == package.sha256).count() == 0 {
            try? FileManager.default.removeItem(at: blobs.url(sha256: package.sha256))
        }
        await index.invalidate()
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

    /// Assigns a package to one device, to the devices carrying a label, or to all. A final
    /// failure of the package on the devices concerned is cleared, so they get it again.
    func assign(package: PackageRecord, deviceID: String?, label: (key: String, value: String)?) async throws -> AssignmentRecord {
        if let deviceID, try await DeviceRecord.find(deviceID, on: store.db) == nil {
            throw ServerError(.notFound, "no device \(deviceID); see `piggyback admin devices`")
        }
        let packageID = try package.requireID()
        let assignment = AssignmentRecord(packageID: packageID, deviceID: deviceID, label: label)
        try await assignment.create(on: store.db)
        var retry = DeliveryRecord.query(on: store.db).filter(\.$packageID == packageID).filter(\.$final == true)
        if let deviceID { retry = retry.filter(\.$deviceID == deviceID) }
        for record in try await retry.all() {
            record.final = false
            record.state = DeliveryRecord.State.pending.rawValue
            record.detail = "assigned again after: \(record.detail)"
            record.updatedAt = Date()
            try await record.save(on: store.db)
        }
        await index.invalidate()
        return assignment
    }

    /// Records a delivery state change for one device and package.
    func record(
        deviceID: String, packageID: UUID, state: DeliveryRecord.State, bytes: Int64? = nil, detail: String = "",
        reason: String? = nil, final: Bool = false
    ) async throws {
        let existing = try await DeliveryRecord.query(on: store.db)
            .filter(\.$deviceID == deviceID).filter(\.$packageID == packageID).first()
        let record = existing ?? DeliveryRecord(deviceID: deviceID, packageID: packageID, state: state)
        record.state = state.rawValue
        if let bytes { record.bytes = bytes }
        record.detail = String(detail.prefix(8192))
        if let reason { record.reason = reason }
        record.final = final
        record.updatedAt = Date()
        try await record.save(on: store.db)
    }
}

extension Catalog {
    /// The package's signed manifest; packages from before schema v5 are signed on first use.
    func signedManifest(_ package: PackageRecord) async throws -> (manifest: Data, signature: Data) {
        if let manifest = package.manifest, let signature = package.signature { return (manifest, signature) }
        var manifest = WirePackageManifest()
        manifest.name = package.name
        manifest.version = package.version
        manifest.kind = package.kind ?? PackageSpec.Kind.files.rawValue
        manifest.size = UInt64(package.size)
        manifest.sha256 = Data(Hex.decode(package.sha256) ?? [])
        manifest.target = package.target ?? ""
        manifest.script = package.script ?? ""
        manifest.check = package.check ?? ""
        manifest.timeoutS = UInt32(package.timeoutSeconds ?? 0)
        manifest.supersedes = package.supersededNames
        manifest.region = package.regionSummary ?? ""
        manifest.serverID = serverID
        manifest.createdUnixMs = Int64(package.createdAt.timeIntervalSince1970 * 1000)
        let signed = try signer.sign(manifest)
        package.manifest = signed.manifest
        package.signature = signed.signature
        try await package.save(on: store.db)
        return signed
    }
}
