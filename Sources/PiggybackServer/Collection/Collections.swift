import FluentKit
import Foundation
import PiggybackProtocol

/// Collection orders, their completion per device, and the index of collected files.
struct Collections: Sendable {
    let store: ServerStore
    let blobs: BlobStore

    /// Creates an order for one device or all.
    func order(deviceID: String?, paths: [String], maxBytes: Int64) async throws -> CollectionOrderRecord {
        guard !paths.isEmpty, paths.allSatisfy({ !$0.isEmpty }) else {
            throw ServerError(.invalid, "a collection order needs at least one non-empty --path")
        }
        if let deviceID, try await DeviceRecord.find(deviceID, on: store.db) == nil {
            throw ServerError(.notFound, "no device \(deviceID); see `piggyback admin devices`")
        }
        let json = String(decoding: try JSONEncoder().encode(paths), as: UTF8.self)
        let order = CollectionOrderRecord(deviceID: deviceID, paths: json, maxBytes: maxBytes)
        try await order.create(on: store.db)
        return order
    }

    /// Orders for this device (or all) that it has not completed yet.
    func due(for deviceID: String) async throws -> [CollectionOrderRecord] {
        let orders = try await CollectionOrderRecord.query(on: store.db).group(.or) { group in
            group.filter(\.$deviceID == deviceID).filter(\.$deviceID == nil)
        }.sort(\.$createdAt).all()
        let done = Set(try await CollectionRunRecord.query(on: store.db).filter(\.$deviceID == deviceID).all().map(\.orderID))
        return orders.filter { order in order.id.map { !done.contains($0) } ?? false }
    }

    /// Indexes a stored blob as a file collected from a device.
    func index(deviceID: String, orderID: UUID, header: WireFileHeader, sha256: String) async throws {
        let mtime = Date(timeIntervalSince1970: Double(max(0, min(header.mtimeUnixMs, 253_402_300_799_000))) / 1000)
        try await CollectedFileRecord(
            deviceID: deviceID, orderID: orderID, path: header.path,
            size: Int64(clamping: header.size), mtime: mtime, sha256: sha256
        ).create(on: store.db)
    }

    /// Marks an order done for a device, with the problems the terminal reported.
    func complete(orderID: UUID, deviceID: String, files: Int, problems: [WireCollectProblem]) async throws {
        let json = String(decoding: try JSONEncoder().encode(problems.map { ["path": $0.path, "reason": $0.reason] }), as: UTF8.self)
        if try await CollectionRunRecord.query(on: store.db).filter(\.$orderID == orderID).filter(\.$deviceID == deviceID).first() == nil {
            try await CollectionRunRecord(orderID: orderID, deviceID: deviceID, files: files, problems: json).create(on: store.db)
        }
    }

    /// Files held for a device, newest first.
    func files(deviceID: String) async throws -> [CollectedFileRecord] {
        try await CollectedFileRecord.query(on: store.db).filter(\.$deviceID == deviceID).sort(\.$collectedAt, .descending).all()
    }
}
