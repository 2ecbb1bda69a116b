import Foundation
import Hummingbird
import NIOCore
import NIOPosix

/// Admin routes for collection orders, their progress, and collected files (issue 6; docs/JSON.md).
extension AdminAPI {
    func addCollectionRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/collections") { request, ctx in try await collect(request, ctx) }
        router.get("/v1/collections") { _, _ in try await collections() }
        router.delete("/v1/collections/:id") { _, ctx in try await cancelCollection(ctx.parameters.require("id")) }
        router.get("/v1/devices/:id/files") { _, ctx in try await files(ctx.parameters.require("id")) }
        router.get("/v1/devices/:id/files/content") { request, ctx in try await fileContent(request, ctx) }
    }

    func collect(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.CollectionOrder {
        let body = try await request.decode(as: AdminJSON.CollectRequest.self, context: ctx)
        var spec = Collections.OrderSpec(deviceID: body.device, all: body.all ?? false, paths: body.paths ?? [])
        if let text = body.label {
            let (key, value) = try InventoryRequests.Scope.label(text)
            spec.label = (key, value)
        }
        if let kind = body.kind {
            guard let parsed = CollectionOrderRecord.Kind(rawValue: kind) else {
                throw AdminError(.badRequest, "invalid", "kind must be files, log or journal, got \(kind)")
            }
            spec.kind = parsed
        }
        if let schedule = body.repeat {
            guard let parsed = CollectionOrderRecord.Repeat(rawValue: schedule) else {
                throw AdminError(.badRequest, "invalid", "repeat must be once or every_session, got \(schedule)")
            }
            spec.schedule = parsed
        }
        spec.sinceLast = body.since_last ?? false
        spec.deleteAfter = body.delete_after ?? false
        spec.maxBytes = body.max_bytes ?? 0
        let order = try await context.collections.order(spec)
        context.logger.notice("collection ordered", metadata: ["order": "\(order.id?.uuidString.lowercased() ?? "")", "target": "\(order.target)", "kind": "\(order.kind.rawValue)"])
        return order.json()
    }

    /// Every order with the progress of each device it concerns.
    func collections() async throws -> [AdminJSON.CollectionOrder] {
        try await context.collections.progress().map { entry in
            entry.order.json(devices: entry.devices.map { row in
                AdminJSON.CollectionDevice(
                    device: row.deviceID, hostname: row.hostname, state: row.state.rawValue, uploading_bytes: row.partialBytes,
                    last_run_at: AdminJSON.time(row.lastRun), runs: row.runs, files: row.files, bytes: row.bytes,
                    problems: row.problems.map { AdminJSON.CollectionProblem(path: $0.path, reason: $0.reason) }
                )
            })
        }
    }

    func cancelCollection(_ text: String) async throws -> AdminJSON.CollectionOrder {
        guard let id = UUID(uuidString: text) else {
            throw AdminError(.badRequest, "invalid", "\(text) is not an order id; see `piggyback admin collections`")
        }
        let order = try await context.collections.cancel(id: id)
        context.logger.notice("collection order cancelled", metadata: ["order": "\(text.lowercased())"])
        return order.json()
    }

    func files(_ id: String) async throws -> [AdminJSON.File] {
        _ = try await findDevice(id)
        return try await context.collections.files(deviceID: id).map(\.json)
    }

    /// The bytes held for `?path=`: a log's or the journal's segments concatenated in stream
    /// order, or a plain file's newest version; streamed from the blobs, never loaded whole.
    func fileContent(_ request: Request, _ ctx: BasicRequestContext) async throws -> Response {
        let id = try ctx.parameters.require("id")
        guard let path = request.uri.queryParameters.get("path"), !path.isEmpty else {
            throw AdminError(.badRequest, "invalid", "give the file's path on the terminal as ?path=")
        }
        _ = try await findDevice(id)
        guard let content = try await context.collections.content(deviceID: id, path: path) else {
            throw AdminError(.notFound, "not_found", "device \(id) has no collected file \(path); see `piggyback admin files \(id)`")
        }
        for piece in content.pieces where !FileManager.default.fileExists(atPath: piece.blob.path) {
            throw AdminError(.internalServerError, "storage", "the blob \(piece.blob.lastPathComponent) of \(path) is missing from the data directory")
        }
        var headers: HTTPFields = [.contentType: "application/octet-stream"]
        if content.segmented {
            headers[.init("X-Piggyback-Segments")!] = String(content.segments)
            headers[.init("X-Piggyback-Gaps")!] = String(content.gaps)
        }
        let pieces = content.pieces
        let body = ResponseBody(contentLength: Int(content.size)) { writer in
            for piece in pieces { try await Self.stream(piece, to: &writer) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Writes a blob range in 256 KiB reads, each on the blocking thread pool.
    static func stream(_ piece: Collections.Content.Piece, to writer: inout any ResponseBodyWriter) async throws {
        let fd = open(piece.blob.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ServerError(.storage, "cannot open \(piece.blob.lastPathComponent): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var done: UInt64 = 0
        while done < piece.count {
            let count = Int(min(piece.count - done, 256 * 1024))
            let offset = off_t(piece.offset + done)
            let buffer = try await NIOThreadPool.singleton.runIfActive {
                var buffer = ByteBufferAllocator().buffer(capacity: count)
                let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { pointer in
                    max(0, pread(fd, pointer.baseAddress, count, offset))
                }
                guard read > 0 else { throw ServerError(.storage, "\(piece.blob.lastPathComponent) is shorter than its index entry") }
                return buffer
            }
            done += UInt64(buffer.readableBytes)
            try await writer.write(buffer)
        }
    }
}
