import FluentKit
import Foundation
import PiggybackProtocol
import SQLKit

/// Collection orders, their runs per device, and the index of collected files (issue 6).
///
/// An order targets one device, the devices carrying a label, or all; it runs once per
/// device (the default for whole files) or in every session (the default for logs and the
/// journal, which grow). Files are stored per terminal, content-addressed in the
/// ``BlobStore``, with one index row per stored file or log segment.
struct Collections: Sendable {
    let store: ServerStore
    let blobs: BlobStore
    let metrics: ServerMetrics

    init(store: ServerStore, blobs: BlobStore, metrics: ServerMetrics = ServerMetrics()) {
        self.store = store
        self.blobs = blobs
        self.metrics = metrics
    }

    /// What an administrator orders.
    struct OrderSpec: Sendable {
        var deviceID: String?
        var label: (key: String, value: String)?
        var all = false
        var paths: [String]
        var kind: CollectionOrderRecord.Kind = .files
        /// Nil: once for files, every session for logs and the journal.
        var schedule: CollectionOrderRecord.Repeat?
        var sinceLast = false
        var deleteAfter = false
        var maxBytes: Int64 = 0
    }

    /// Checks and stores an order.
    func order(_ spec: OrderSpec) async throws -> CollectionOrderRecord {
        let targets = [spec.deviceID != nil, spec.label != nil, spec.all].filter { $0 }.count
        guard targets == 1 else {
            throw ServerError(.invalid, "collect from exactly one of a device (--device ID), a label (--group KEY=VALUE) or all (--all)")
        }
        if spec.kind != .journal {
            guard !spec.paths.isEmpty else {
                throw ServerError(.invalid, "a \(spec.kind.rawValue) collection order needs at least one --path GLOB")
            }
        }
        guard spec.paths.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 4096 && !$0.contains("\0") }), spec.paths.count <= 256 else {
            throw ServerError(.invalid, "paths must be non-empty globs of at most 4096 bytes, at most 256 of them")
        }
        guard spec.maxBytes >= 0 else { throw ServerError(.invalid, "--max-bytes must be 0 (the default limit) or positive") }
        if spec.deleteAfter, spec.kind != .files {
            throw ServerError(.invalid, "--delete-after applies to whole files only: a \(spec.kind.rawValue) order follows a growing source, which the terminal must keep")
        }
        if let deviceID = spec.deviceID, try await DeviceRecord.find(deviceID, on: store.db) == nil {
            throw ServerError(.notFound, "no device \(deviceID); see `piggyback admin devices`")
        }
        let json = String(decoding: try JSONEncoder().encode(spec.paths), as: UTF8.self)
        let order = CollectionOrderRecord(
            deviceID: spec.deviceID, label: spec.label, paths: json, maxBytes: spec.maxBytes, kind: spec.kind,
            repeat: spec.schedule ?? (spec.kind == .files ? .once : .everySession), sinceLast: spec.sinceLast, deleteAfter: spec.deleteAfter
        )
        try await order.create(on: store.db)
        return order
    }

    /// Cancels an order: it is given to no terminal any more; its runs go, files stay indexed,
    /// partial uploads for it are removed.
    func cancel(id: UUID) async throws -> CollectionOrderRecord {
        guard let order = try await CollectionOrderRecord.find(id, on: store.db) else {
            throw ServerError(.notFound, "no collection order \(id.uuidString.lowercased()); see `piggyback admin collections`")
        }
        try await store.db.transaction { db in
            try await CollectionRunRecord.query(on: db).filter(\.$orderID == id).delete()
            try await order.delete(on: db)
        }
        removePartials(orderID: id, deviceID: nil)
        return order
    }

    /// Every order, oldest first.
    func orders() async throws -> [CollectionOrderRecord] {
        try await CollectionOrderRecord.query(on: store.db).sort(\.$createdAt).all()
    }

    /// The orders due for this device: its own, those of a label it carries, and those for
    /// all; a `once` order not after the device completed it.
    func due(for deviceID: String) async throws -> [CollectionOrderRecord] {
        let labels = try await InventoryRequests(store: store).labels(deviceID: deviceID)
        let orders = try await orders().filter { $0.targets(deviceID: deviceID, labels: labels) }
        guard orders.contains(where: { $0.schedule == .once }) else { return orders }
        let done = Set(try await CollectionRunRecord.query(on: store.db).filter(\.$deviceID == deviceID).all().map(\.orderID))
        return orders.filter { order in
            guard let id = order.id else { return false }
            return order.schedule == .everySession || !done.contains(id)
        }
    }

    /// Since-last: whether the device already delivered this content from this order or at
    /// this path, so the file is answered as stored without being sent again. A log segment
    /// counts as held only at the same offset of the same log (the same lines appended
    /// again are new data).
    func alreadyHeld(deviceID: String, orderID: UUID, header: WireFileHeader, sha256: String) async throws -> Bool {
        let query = CollectedFileRecord.query(on: store.db).filter(\.$deviceID == deviceID).filter(\.$sha256 == sha256)
        if header.segment {
            return try await query.filter(\.$path == header.path).filter(\.$segmentFlag == true)
                .filter(\.$streamOffsetValue == Int64(clamping: header.streamOffset)).first() != nil
        }
        return try await query.group(.or) { $0.filter(\.$orderID == orderID).filter(\.$path == header.path) }.first() != nil
    }

    /// Indexes a stored blob as a file collected from a device. Committed durably before it
    /// returns (SQLite: this commit syncs its write-ahead log, whatever the store's default),
    /// because the terminal may delete its copy on the answer that follows.
    func index(deviceID: String, orderID: UUID, header: WireFileHeader, sha256: String) async throws {
        let mtime = Date(timeIntervalSince1970: Double(max(0, min(header.mtimeUnixMs, 253_402_300_799_000))) / 1000)
        let record = CollectedFileRecord(
            deviceID: deviceID, orderID: orderID, path: header.path, size: Int64(clamping: header.size), mtime: mtime, sha256: sha256,
            segment: header.segment, streamOffset: Int64(clamping: header.streamOffset)
        )
        if store.backend == "sqlite" {
            try await store.db.withConnection { db in
                let sql = db as? any SQLDatabase
                try await sql?.raw("PRAGMA synchronous=FULL").run()
                do {
                    try await record.create(on: db)
                } catch {
                    try? await sql?.raw("PRAGMA synchronous=NORMAL").run()
                    throw error
                }
                try await sql?.raw("PRAGMA synchronous=NORMAL").run()
            }
        } else {
            try await record.create(on: store.db)
        }
        metrics.add(ServerMetrics.Name.collectedFiles)
    }

    /// Records a device's run of an order (one more run, its problems) and drops partial
    /// uploads the terminal left behind for it (a file that changed while it was read).
    /// An order cancelled meanwhile is not recreated.
    func complete(orderID: UUID, deviceID: String, files: Int, problems: [WireCollectProblem]) async throws {
        let json = String(decoding: try JSONEncoder().encode(problems.prefix(1000).map { ["path": $0.path, "reason": $0.reason] }), as: UTF8.self)
        try await store.db.transaction { db in
            guard try await CollectionOrderRecord.find(orderID, on: db) != nil else { return }
            if let run = try await CollectionRunRecord.query(on: db).filter(\.$orderID == orderID).filter(\.$deviceID == deviceID).first() {
                run.runCount = run.runs + 1
                run.files = files
                run.problems = json
                run.completedAt = Date()
                try await run.save(on: db)
            } else {
                try await CollectionRunRecord(orderID: orderID, deviceID: deviceID, files: files, problems: json).create(on: db)
            }
        }
        // A once order is over for this device: what is left of it will not be resumed. A
        // standing order may resume a cut upload next session; only old leftovers go.
        let once = try await CollectionOrderRecord.find(orderID, on: store.db)?.schedule != .everySession
        removePartials(orderID: orderID, deviceID: deviceID, olderThan: once ? nil : Self.partialLifetime)
    }

    /// How long a standing order's partial upload waits for its resumption.
    static let partialLifetime: TimeInterval = 7 * 86400

    /// Files held for a device, newest first.
    func files(deviceID: String) async throws -> [CollectedFileRecord] {
        try await CollectedFileRecord.query(on: store.db).filter(\.$deviceID == deviceID).sort(\.$collectedAt, .descending).all()
    }

    /// The partial upload's name: device, order, file digest, so a cut upload resumes next session.
    static func partialKey(deviceID: String, orderID: UUID, sha256: String) -> String {
        "\(deviceID)-\(orderID.uuidString.lowercased())-\(sha256)"
    }

    /// Removes the partials of an order (of one device, or of all; optionally only those
    /// not written to for `age` seconds).
    func removePartials(orderID: UUID, deviceID: String?, olderThan age: TimeInterval? = nil) {
        let directory = blobs.root.appendingPathComponent("partial")
        let order = orderID.uuidString.lowercased()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] {
            guard let key = PartialKey(name), key.orderID == order, deviceID == nil || key.deviceID == deviceID else { continue }
            let url = directory.appendingPathComponent(name)
            if let age {
                let modified = (try? FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate]) as? Date
                guard let modified, Date().timeIntervalSince(modified) > age else { continue }
            }
            try? FileManager.default.removeItem(at: url)
        }
    }
}

/// A partial upload's file name taken apart: `DEVICE-ORDER-SHA256` (the device id may
/// itself contain dashes; the order is a UUID and the digest 64 hex digits).
struct PartialKey: Sendable {
    let deviceID: String
    let orderID: String
    let sha256: String

    init?(_ name: String) {
        let bytes = Array(name.utf8)
        guard bytes.count > 36 + 64 + 3 else { return nil }
        let sha = String(decoding: bytes[(bytes.count - 64)...], as: UTF8.self)
        let orderEnd = bytes.count - 65
        let orderStart = orderEnd - 36
        guard bytes[orderEnd] == UInt8(ascii: "-"), bytes[orderStart - 1] == UInt8(ascii: "-") else { return nil }
        let order = String(decoding: bytes[orderStart..<orderEnd], as: UTF8.self)
        guard UUID(uuidString: order) != nil else { return nil }
        self.deviceID = String(decoding: bytes[..<(orderStart - 1)], as: UTF8.self)
        self.orderID = order
        self.sha256 = sha
    }
}
