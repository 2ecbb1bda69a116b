import Foundation
import Hummingbird

extension AdminJSON {
    /// `PUT /v1/uploads`: the stored content.
    struct Upload: ResponseCodable {
        var sha256: String
        var size: Int64
    }

    /// `POST /v1/packages`: registers uploaded content as a package.
    struct PackageRequest: Codable, Sendable {
        var name: String
        var version: String
        var sha256: String
        var kind: String?
        var target: String?
        var script: String?
        var check: String?
        var timeout_s: Int?
        /// `circle:LAT,LON,RADIUS` or GeoJSON text.
        var region: String?
        /// An inventory query (`--when`).
        var rule: String?
        var supersedes: [String]?
    }

    /// One package on one device (`GET /v1/deliveries`).
    struct DeliveryRow: ResponseCodable {
        var device: String
        var hostname: String
        var package: String
        var version: String
        var state: String
        var bytes: Int64
        var size: Int64
        var reason: String
        var detail: String
        var updated_at: String?
    }
}
