import Foundation
import Hummingbird

/// The admin API's JSON documents (see docs/JSON.md). Keys are snake_case and stable.
enum AdminJSON {
    static func time(_ date: Date?) -> String? {
        date.map { $0.formatted(.iso8601) }
    }

    struct Device: ResponseCodable {
        var id: String
        var hostname: String
        var state: String
        var enrolled_at: String
        var last_seen: String?
        var last_address: String?
        var last_result: String?
        var inventory_version: Int64
    }

    struct DeviceDetail: ResponseCodable {
        var device: Device
        var labels: [String: String]
        var inventory: [String: [String: String]]
        var position: Position?
        var deliveries: [Delivery]
        /// The sections the next 1020 asks this device for (empty: all).
        var inventory_request: [String]
    }

    struct Position: Codable, Sendable {
        var lat: Double
        var lon: Double
        var accuracy_m: Double
        var source: String
        var time_unix_ms: Double
    }

    struct Delivery: ResponseCodable {
        var package: String
        var version: String
        var state: String
        var bytes: Int64
        var detail: String
        var updated_at: String
    }

    struct Change: ResponseCodable {
        var version: Int64
        var section: String
        var key: String
        var old: String?
        var new: String?
        var changed_at: String
    }

    struct Package: ResponseCodable {
        var id: String
        var name: String
        var version: String
        var sha256: String
        var size: Int64
        var created_at: String
        var kind: String
        var target: String?
        var script: String?
        var check: String?
        var timeout_s: Int?
        var region: String?
        var rule: String?
        var supersedes: [String]
        var deb_package: String?
        var deb_version: String?
        /// Base64 Ed25519 signature of the manifest.
        var signature: String?
    }

    struct Assignment: ResponseCodable {
        var id: String
        var package: String
        var version: String
        var device: String?
        var label: String?
        var scope: String
        var created_at: String
    }

    struct EnrollToken: ResponseCodable {
        var token: String
        var servers: [String]
        var ca_sha256: String
        var expires_at: String
        var uses: Int
    }

    struct EnrollTokenRequest: Codable, Sendable {
        var expires_in_seconds: Double?
        var uses: Int?
    }

    struct AssignRequest: Codable, Sendable {
        var package: String
        var version: String?
        var device: String?
        /// `KEY=VALUE`: every device carrying the label.
        var label: String?
        var all: Bool?
    }

    struct Health: ResponseCodable {
        var status: String
        var server_id: String
        var database: String
        var endpoints: [String]
        var ca_sha256: String
    }
}

extension DeviceRecord {
    var json: AdminJSON.Device {
        AdminJSON.Device(
            id: id ?? "", hostname: hostname, state: state,
            enrolled_at: AdminJSON.time(enrolledAt) ?? "", last_seen: AdminJSON.time(lastSeen),
            last_address: lastAddress, last_result: lastResult, inventory_version: inventoryVersion
        )
    }
}

extension PackageRecord {
    var json: AdminJSON.Package {
        AdminJSON.Package(
            id: id?.uuidString.lowercased() ?? "", name: name, version: version,
            sha256: sha256, size: size, created_at: AdminJSON.time(createdAt) ?? "",
            kind: kind ?? "files", target: target, script: script, check: check, timeout_s: timeoutSeconds,
            region: regionSummary, rule: rule, supersedes: supersededNames, deb_package: debPackage, deb_version: debVersion,
            signature: signature?.base64EncodedString()
        )
    }
}
