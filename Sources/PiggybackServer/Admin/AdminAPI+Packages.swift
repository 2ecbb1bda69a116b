import FluentKit
import Foundation
import Hummingbird
import PiggybackProtocol

extension AdminAPI {
    /// Catalogue routes: upload content, register and remove packages, assign, list deliveries.
    func addPackageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/packages") { _, _ in try await context.catalog.packages().map(\.json) }
        router.put("/v1/uploads") { request, _ in try await upload(request) }
        router.post("/v1/packages") { request, ctx in try await addPackage(request, ctx) }
        router.put("/v1/packages/:name/:version") { request, ctx in try await putPackage(request, ctx) }
        router.delete("/v1/packages/:name/:version") { _, ctx in try await removePackage(ctx) }
        router.get("/v1/packages/:name/:version/content") { _, ctx in try await packageContent(ctx) }
        router.post("/v1/assignments") { request, ctx in try await assign(request, ctx) }
        router.get("/v1/deliveries") { request, _ in try await deliveries(request) }
    }

    /// Streams the request body into the blob store (never whole in memory).
    func upload(_ request: Request) async throws -> AdminJSON.Upload {
        let temporary = context.blobs.temporaryURL()
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw AdminError(.internalServerError, "storage", "cannot create \(temporary.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            for try await buffer in request.body {
                try handle.write(contentsOf: buffer.readableBytesView)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw AdminError(.internalServerError, "storage", "could not store the upload: \(error)")
        }
        let digest = try context.blobs.commit(file: temporary)
        return AdminJSON.Upload(sha256: digest, size: Int64(context.blobs.size(sha256: digest) ?? 0))
    }

    func addPackage(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.Package {
        let body = try await request.decode(as: AdminJSON.PackageRequest.self, context: ctx)
        let spec = try PackageSpec(body)
        let record = try await context.catalog.add(spec, sha256: body.sha256.lowercased())
        context.logger.info("package added", metadata: [
            "package": "\(spec.name)@\(spec.version)", "size": "\(record.size)", "kind": "\(spec.kind.rawValue)",
        ])
        return record.json
    }

    /// One-request form for scripts and curl: the body is the content, the rest comes as
    /// query parameters (`kind`, `target`, `script`, `check`, `timeout_s`, `region`, `rule`, `supersedes`).
    func putPackage(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.Package {
        let raw = (try ctx.parameters.require("name"), try ctx.parameters.require("version"))
        let query = request.uri.queryParameters
        func text(_ key: String) -> String? { query.get(key).map { $0.removingPercentEncoding ?? $0 } }
        let uploaded = try await upload(request)
        let body = AdminJSON.PackageRequest(
            name: raw.0.removingPercentEncoding ?? raw.0, version: raw.1.removingPercentEncoding ?? raw.1, sha256: uploaded.sha256,
            kind: text("kind"), target: text("target"), script: text("script"), check: text("check"),
            timeout_s: query.get("timeout_s", as: Int.self), region: text("region"), rule: text("rule"),
            supersedes: text("supersedes")?.split(separator: ",").map(String.init)
        )
        let spec = try PackageSpec(body)
        let record = try await context.catalog.add(spec, sha256: uploaded.sha256)
        context.logger.info("package added", metadata: ["package": "\(spec.name)@\(spec.version)", "size": "\(record.size)"])
        return record.json
    }

    func removePackage(_ ctx: BasicRequestContext) async throws -> AdminJSON.Package {
        let package = try await context.catalog.package(name: try ctx.parameters.require("name"), version: try ctx.parameters.require("version"))
        try await context.catalog.remove(package)
        context.logger.notice("package removed", metadata: ["package": "\(package.name)@\(package.version)"])
        return package.json
    }

    /// The package's bytes over HTTPS (for administrators, and the throughput baseline).
    func packageContent(_ ctx: BasicRequestContext) async throws -> Response {
        let package = try await context.catalog.package(name: try ctx.parameters.require("name"), version: try ctx.parameters.require("version"))
        let body = try await FileIO().loadFile(path: context.blobs.url(sha256: package.sha256).path, context: ctx)
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    func assign(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.Assignment {
        let body = try await request.decode(as: AdminJSON.AssignRequest.self, context: ctx)
        let scopes = [body.device != nil, body.label != nil, body.all ?? false].filter { $0 }.count
        guard scopes == 1 else {
            throw AdminError(.badRequest, "invalid", "assign to exactly one of a device, a label or all")
        }
        var label: (key: String, value: String)?
        if let text = body.label {
            let (key, value) = try InventoryRequests.Scope.label(text)
            label = (key, value)
        }
        let package = try await context.catalog.package(name: body.package, version: body.version)
        let assignment = try await context.catalog.assign(package: package, deviceID: body.device, label: label)
        return AdminJSON.Assignment(
            id: assignment.id?.uuidString.lowercased() ?? "", package: package.name, version: package.version,
            device: body.device, label: body.label, scope: assignment.scope, created_at: AdminJSON.time(assignment.createdAt) ?? ""
        )
    }

    /// Every package on every device it concerns, filtered by `?package=NAME[@VERSION]` and
    /// `?device=ID`: the recorded states, plus `pending` for what the next session would offer.
    func deliveries(_ request: Request) async throws -> [AdminJSON.DeliveryRow] {
        let deviceFilter = request.uri.queryParameters.get("device")
        var packageFilter: (name: String, version: String?)?
        if let text = request.uri.queryParameters.get("package"), !text.isEmpty {
            let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
            packageFilter = (parts[0], parts.count > 1 ? parts[1] : nil)
        }
        var devices = DeviceRecord.query(on: context.store.db)
        if let deviceFilter { devices = devices.filter(\.$id == deviceFilter) }
        let deviceList = try await devices.sort(\.$enrolledAt).all()
        if let deviceFilter, deviceList.isEmpty {
            throw AdminError(.notFound, "not_found", "no device \(deviceFilter); see `piggyback admin devices`")
        }
        let packages = Dictionary(uniqueKeysWithValues: try await context.catalog.packages().compactMap { p in p.id.map { ($0, p) } })
        func wanted(_ package: PackageRecord) -> Bool {
            guard let packageFilter else { return true }
            return package.name == packageFilter.name && (packageFilter.version == nil || package.version == packageFilter.version)
        }
        var rows: [AdminJSON.DeliveryRow] = []
        for device in deviceList {
            guard let deviceID = device.id else { continue }
            let records = try await DeliveryRecord.query(on: context.store.db).filter(\.$deviceID == deviceID).all()
            var seen = Set<UUID>()
            for record in records {
                guard let package = packages[record.packageID], wanted(package) else { continue }
                seen.insert(record.packageID)
                rows.append(row(device, package, state: record.state, bytes: record.bytes, reason: record.reason ?? "", detail: record.detail, at: record.updatedAt))
            }
            let terminal = Catalog.Terminal(
                deviceID: deviceID, labels: try await context.requests.labels(deviceID: deviceID),
                inventory: InventoryStore.queryable(try await context.inventory.current(deviceID: deviceID)),
                position: Self.storedPosition(device)
            )
            for choice in try await context.catalog.choose(for: terminal) where !seen.contains(choice.package.id ?? UUID()) && wanted(choice.package) {
                rows.append(row(device, choice.package, state: "pending", bytes: 0, reason: choice.reason, detail: "", at: nil))
            }
        }
        return rows
    }

    func row(_ device: DeviceRecord, _ package: PackageRecord, state: String, bytes: Int64, reason: String, detail: String, at: Date?) -> AdminJSON.DeliveryRow {
        AdminJSON.DeliveryRow(
            device: device.id ?? "", hostname: device.hostname, package: package.name, version: package.version, state: state,
            bytes: bytes, size: package.size, reason: reason, detail: detail, updated_at: at.flatMap(AdminJSON.time)
        )
    }

    /// The last position the device reported, for previewing regional choices.
    static func storedPosition(_ device: DeviceRecord) -> (lat: Double, lon: Double, accuracy: Double)? {
        guard let text = device.position, let position = try? JSONDecoder().decode(AdminJSON.Position.self, from: Data(text.utf8)) else { return nil }
        return (position.lat, position.lon, position.accuracy_m)
    }
}
