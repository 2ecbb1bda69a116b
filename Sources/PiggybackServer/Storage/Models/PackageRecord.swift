import FluentKit
import Foundation

/// A package of the catalogue: software or data, stored content-addressed, with the
/// instructions the terminal follows and the signed manifest that carries them.
final class PackageRecord: Model, @unchecked Sendable {
    static let schema = "packages"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "version") var version: String
    @Field(key: "sha256") var sha256: String
    @Field(key: "size") var size: Int64
    @Field(key: "created_at") var createdAt: Date
    /// files, script or deb (nil in rows from before schema v5: files).
    @OptionalField(key: "kind") var kind: String?
    @OptionalField(key: "target") var target: String?
    @OptionalField(key: "script") var script: String?
    @OptionalField(key: "check_command") var check: String?
    @OptionalField(key: "timeout_s") var timeoutSeconds: Int?
    /// Canonical region JSON (`Region.json`) and its one-line summary.
    @OptionalField(key: "region") var region: String?
    @OptionalField(key: "region_summary") var regionSummary: String?
    /// An inventory query; the package goes to terminals whose inventory matches.
    @OptionalField(key: "rule") var rule: String?
    /// Package names this one replaces, comma-separated.
    @OptionalField(key: "supersedes") var supersedes: String?
    /// For deb packages: the Debian package name and version inside, read at `package add`.
    @OptionalField(key: "deb_package") var debPackage: String?
    @OptionalField(key: "deb_version") var debVersion: String?
    /// The serialized `WirePackageManifest` and its Ed25519 signature.
    @OptionalField(key: "manifest") var manifest: Data?
    @OptionalField(key: "signature") var signature: Data?

    init() {}

    init(name: String, version: String, sha256: String, size: Int64) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.size = size
        self.createdAt = Date()
    }

    /// The package names this one supersedes.
    var supersededNames: [String] {
        (supersedes ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// An administrator's decision that a package goes to one device, to the devices with a
/// label, or to all (device and label nil).
final class AssignmentRecord: Model, @unchecked Sendable {
    static let schema = "assignments"

    @ID(key: .id) var id: UUID?
    @Field(key: "package_id") var packageID: UUID
    @OptionalField(key: "device_id") var deviceID: String?
    @OptionalField(key: "label_key") var labelKey: String?
    @OptionalField(key: "label_value") var labelValue: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(packageID: UUID, deviceID: String?, label: (key: String, value: String)? = nil) {
        self.packageID = packageID
        self.deviceID = deviceID
        self.labelKey = label?.key
        self.labelValue = label?.value
        self.createdAt = Date()
    }

    /// How the assignment reads in offers and listings.
    var scope: String {
        if let deviceID { return "device \(deviceID)" }
        if let labelKey { return "label \(labelKey)=\(labelValue ?? "")" }
        return "all"
    }
}

/// The state of one package on one device.
final class DeliveryRecord: Model, @unchecked Sendable {
    static let schema = "deliveries"

    /// Delivery states, in the order a delivery usually goes through them.
    enum State: String, Codable, Sendable, CaseIterable {
        case pending, offered, deferred, downloading, downloaded, installed, failed
        case rolledBack = "rolled_back"
        case removed
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "package_id") var packageID: UUID
    @Field(key: "state") var state: String
    @Field(key: "bytes") var bytes: Int64
    @Field(key: "detail") var detail: String
    @Field(key: "updated_at") var updatedAt: Date
    /// Why the package was chosen for the device (assignment, rule, region).
    @OptionalField(key: "reason") var reason: String?
    /// A failure that retrying the same bytes would repeat (install failed, rolled back):
    /// not offered again until an administrator assigns the package anew.
    @OptionalField(key: "final") var final: Bool?

    init() {}

    init(deviceID: String, packageID: UUID, state: State) {
        self.deviceID = deviceID
        self.packageID = packageID
        self.state = state.rawValue
        self.bytes = 0
        self.detail = ""
        self.updatedAt = Date()
    }

    /// Whether the device has the package (or had it, and it was replaced): never offer it again.
    var settled: Bool {
        switch State(rawValue: state) {
        case .downloaded, .installed, .removed: true
        default: final ?? false
        }
    }
}
