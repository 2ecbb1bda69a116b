import Foundation
import Hummingbird

extension AdminJSON {
    /// `POST /v1/collections`: exactly one of `device`, `label` (`KEY=VALUE`) or `all`.
    struct CollectRequest: Codable, Sendable {
        var device: String?
        var label: String?
        var all: Bool?
        /// Globs (files, log) or unit names (journal; none: the whole journal).
        var paths: [String]?
        /// `files` (default), `log` or `journal`.
        var kind: String?
        /// `once` (default for files) or `every_session` (default for log and journal).
        var `repeat`: String?
        var since_last: Bool?
        var delete_after: Bool?
        var max_bytes: Int64?
    }

    /// An order (the answer to creating or cancelling one; with `devices` in `GET /v1/collections`).
    struct CollectionOrder: ResponseCodable {
        var id: String
        /// `device:ID`, `label:KEY=VALUE` or `all`.
        var target: String
        var device: String?
        var label: String?
        var kind: String
        var paths: [String]
        var `repeat`: String
        var since_last: Bool
        var delete_after: Bool
        var max_bytes: Int64
        var created_at: String
        /// Progress per targeted device (only in the listing).
        var devices: [CollectionDevice]?
    }

    /// One device's progress on an order.
    struct CollectionDevice: ResponseCodable {
        var device: String
        var hostname: String
        /// `pending` (not run yet), `uploading` (a partial upload waits), `done` (run at least once).
        var state: String
        /// Bytes of partial uploads held for the device and order.
        var uploading_bytes: Int64
        var last_run_at: String?
        var runs: Int
        /// Files (and segments) stored from this order for the device, and their bytes.
        var files: Int
        var bytes: Int64
        /// What the terminal reported in the last run.
        var problems: [CollectionProblem]
    }

    /// A path the terminal could not collect, and why.
    struct CollectionProblem: Codable, Sendable {
        var path: String
        var reason: String
    }

    /// A file (or log segment) held for a device.
    struct File: ResponseCodable {
        var path: String
        var size: Int64
        var sha256: String
        var mtime: String
        var collected_at: String
        var order: String
        /// A piece of a growing log or the journal, starting at `stream_offset` of its source.
        var segment: Bool
        var stream_offset: Int64
    }
}

extension CollectionOrderRecord {
    /// The order as the admin API shows it.
    func json(devices: [AdminJSON.CollectionDevice]? = nil) -> AdminJSON.CollectionOrder {
        AdminJSON.CollectionOrder(
            id: id?.uuidString.lowercased() ?? "", target: target, device: deviceID,
            label: labelKey.map { "\($0)=\(labelValue ?? "")" }, kind: kind.rawValue, paths: pathList,
            repeat: schedule.rawValue, since_last: sinceLast, delete_after: deleteAfter, max_bytes: maxBytes,
            created_at: AdminJSON.time(createdAt) ?? "", devices: devices
        )
    }
}

extension CollectedFileRecord {
    var json: AdminJSON.File {
        AdminJSON.File(
            path: path, size: size, sha256: sha256, mtime: AdminJSON.time(mtime) ?? "", collected_at: AdminJSON.time(collectedAt) ?? "",
            order: orderID.uuidString.lowercased(), segment: segment, stream_offset: streamOffset
        )
    }
}
