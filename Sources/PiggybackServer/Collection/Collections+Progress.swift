import FluentKit
import Foundation
import SQLKit

extension Collections {
    /// One device's state for one order.
    struct DeviceProgress: Sendable {
        enum State: String, Sendable {
            case pending, uploading, done
        }

        var deviceID: String
        var hostname: String
        var state: State
        /// Bytes of partial uploads waiting for the next session.
        var partialBytes: Int64 = 0
        var lastRun: Date?
        var runs = 0
        var files = 0
        var bytes: Int64 = 0
        var problems: [(path: String, reason: String)] = []
    }

    /// Every order with the state of each device it targets (and of devices that ran it
    /// before they stopped being targeted, e.g. a label removed). Revoked devices that never
    /// ran an order are left out.
    func progress() async throws -> [(order: CollectionOrderRecord, devices: [DeviceProgress])] {
        let orders = try await orders()
        guard !orders.isEmpty else { return [] }
        let devices = try await DeviceRecord.query(on: store.db).sort(\.$enrolledAt).all()
        var labels: [String: [String: String]] = [:]
        for label in try await DeviceLabelRecord.query(on: store.db).all() { labels[label.deviceID, default: [:]][label.key] = label.value }
        var runs: [String: CollectionRunRecord] = [:]
        for run in try await CollectionRunRecord.query(on: store.db).all() { runs[Self.pair(run.orderID, run.deviceID)] = run }
        let tallies = try await tallies()
        let partials = partialBytes()
        let decoder = JSONDecoder()
        return orders.map { order in
            let id = order.id ?? UUID()
            let rows: [DeviceProgress] = devices.compactMap { device in
                guard let deviceID = device.id else { return nil }
                let key = Self.pair(id, deviceID)
                let run = runs[key]
                let targeted = order.targets(deviceID: deviceID, labels: labels[deviceID] ?? [:]) && device.state != DeviceRecord.State.revoked.rawValue
                guard targeted || run != nil || partials[key] != nil else { return nil }
                var row = DeviceProgress(deviceID: deviceID, hostname: device.hostname, state: run == nil ? .pending : .done)
                if let partial = partials[key] {
                    row.state = .uploading
                    row.partialBytes = partial
                }
                if let run {
                    row.lastRun = run.completedAt
                    row.runs = run.runs
                    let problems = (try? decoder.decode([[String: String]].self, from: Data(run.problems.utf8))) ?? []
                    row.problems = problems.map { ($0["path"] ?? "", $0["reason"] ?? "") }
                }
                if let tally = tallies[key] {
                    row.files = tally.files
                    row.bytes = tally.bytes
                }
                return row
            }
            return (order, rows)
        }
    }

    static func pair(_ orderID: UUID, _ deviceID: String) -> String {
        "\(orderID.uuidString.lowercased()) \(deviceID)"
    }

    /// Files and bytes indexed per (order, device), counted by the database.
    func tallies() async throws -> [String: (files: Int, bytes: Int64)] {
        struct Row: Decodable {
            var order_id: UUID
            var device_id: String
            var files: Int64
            var bytes: Int64
        }
        guard let sql = store.db as? any SQLDatabase else { return [:] }
        let rows = try await sql.raw("""
            SELECT order_id, device_id, COUNT(*) AS files, CAST(COALESCE(SUM(size), 0) AS BIGINT) AS bytes
            FROM collected_files GROUP BY order_id, device_id
            """).all(decoding: Row.self)
        var result: [String: (files: Int, bytes: Int64)] = [:]
        for row in rows { result[Self.pair(row.order_id, row.device_id)] = (Int(row.files), row.bytes) }
        return result
    }

    /// Bytes of partial uploads per (order, device), from the names in `partial/`.
    func partialBytes() -> [String: Int64] {
        let directory = blobs.root.appendingPathComponent("partial")
        var result: [String: Int64] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            guard let key = PartialKey(name), let order = UUID(uuidString: key.orderID) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.size] as? NSNumber)?.int64Value ?? 0
            result[Self.pair(order, key.deviceID), default: 0] += size
        }
        return result
    }
}
