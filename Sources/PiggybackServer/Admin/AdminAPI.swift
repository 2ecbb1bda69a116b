import FluentKit
import Foundation
import Hummingbird
import PiggybackProtocol

/// The admin HTTP API (JSON), which every `piggyback admin` subcommand goes through.
struct AdminAPI: Sendable {
    let context: ServerContext
    let token: AdminToken

    /// Builds the router with authentication and every route.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AdminAuthMiddleware(token: token))
        router.get("/v1/health") { _, _ in
            AdminJSON.Health(
                status: "ok", server_id: context.serverID, database: context.store.backend,
                endpoints: context.endpoints.urls, ca_sha256: context.authority.fingerprint
            )
        }
        router.post("/v1/enroll-tokens") { request, ctx in try await enrollToken(request, ctx) }
        router.get("/v1/devices") { request, _ in try await devices(request) }
        router.get("/v1/devices/:id") { _, ctx in try await device(ctx.parameters.require("id")) }
        router.get("/v1/devices/:id/history") { request, ctx in try await history(request, ctx) }
        router.post("/v1/devices/:id/revoke") { _, ctx in try await setState(ctx.parameters.require("id"), .revoked) }
        router.post("/v1/devices/:id/accept") { _, ctx in try await setState(ctx.parameters.require("id"), .accepted) }
        addPackageRoutes(to: router)
        addCollectionRoutes(to: router)
        addInventoryRequestRoutes(to: router)
        addAlertRoutes(to: router)
        addMetricsRoutes(to: router)
        return router
    }

    func enrollToken(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.EnrollToken {
        let body = try await request.decode(as: AdminJSON.EnrollTokenRequest.self, context: ctx)
        let lifetime = body.expires_in_seconds ?? 86400
        let uses = body.uses ?? 1
        guard lifetime > 0, uses > 0 else {
            throw AdminError(.badRequest, "invalid", "expires_in_seconds and uses must be positive")
        }
        let servers = context.endpoints.urls
        let (token, expires) = try await context.enrollment.issue(
            servers: servers, caFingerprint: context.authority.fingerprint, lifetime: lifetime, uses: uses
        )
        return AdminJSON.EnrollToken(
            token: token.encoded, servers: servers, ca_sha256: token.caFingerprint,
            expires_at: AdminJSON.time(expires) ?? "", uses: uses
        )
    }

    /// All devices, or those whose inventory matches `?where=EXPR` (docs/GUIDE.md).
    func devices(_ request: Request) async throws -> [AdminJSON.Device] {
        let devices = try await DeviceRecord.query(on: context.store.db).sort(\.$enrolledAt).all()
        guard let text = request.uri.queryParameters.get("where"), !text.isEmpty else { return devices.map(\.json) }
        let query: InventoryQuery
        do {
            query = try InventoryQuery(parsing: text)
        } catch {
            throw AdminError(.badRequest, "invalid", "--where \(text): \(error)")
        }
        let inventories = try await context.inventory.all()
        return devices.filter { device in
            query.matches(InventoryStore.queryable(inventories[device.id ?? ""] ?? [:]))
        }.map(\.json)
    }

    func findDevice(_ id: String) async throws -> DeviceRecord {
        guard let device = try await DeviceRecord.find(id, on: context.store.db) else {
            throw AdminError(.notFound, "not_found", "no device \(id); see `piggyback admin devices`")
        }
        return device
    }

    func device(_ id: String) async throws -> AdminJSON.DeviceDetail {
        let device = try await findDevice(id)
        let inventory = try await context.inventory.current(deviceID: id)
        let position = device.position.flatMap { try? JSONDecoder().decode(AdminJSON.Position.self, from: Data($0.utf8)) }
        let records = try await DeliveryRecord.query(on: context.store.db).filter(\.$deviceID == id).sort(\.$updatedAt).all()
        let packages = try await PackageRecord.query(on: context.store.db).filter(\.$id ~~ records.map(\.packageID)).all()
        let byID = Dictionary(uniqueKeysWithValues: packages.compactMap { p in p.id.map { ($0, p) } })
        let deliveries = records.map { record in
            AdminJSON.Delivery(
                package: byID[record.packageID]?.name ?? "?", version: byID[record.packageID]?.version ?? "?",
                state: record.state, bytes: record.bytes, detail: record.detail,
                updated_at: AdminJSON.time(record.updatedAt) ?? ""
            )
        }
        return AdminJSON.DeviceDetail(
            device: device.json, labels: try await context.requests.labels(deviceID: id), inventory: inventory, position: position,
            deliveries: deliveries, inventory_request: try await context.requests.resolve(deviceID: id).json)
    }

    func history(_ request: Request, _ ctx: BasicRequestContext) async throws -> [AdminJSON.Change] {
        let id = try ctx.parameters.require("id")
        _ = try await findDevice(id)
        let limit = min(max(request.uri.queryParameters.get("limit", as: Int.self) ?? 1000, 1), 100_000)
        return try await context.inventory.history(deviceID: id, limit: limit).map { change in
            AdminJSON.Change(
                version: change.version, section: change.section, key: change.key, old: change.oldValue, new: change.newValue,
                changed_at: AdminJSON.time(change.changedAt) ?? ""
            )
        }
    }

    func setState(_ id: String, _ state: DeviceRecord.State) async throws -> AdminJSON.Device {
        let device = try await findDevice(id)
        device.state = state.rawValue
        try await device.save(on: context.store.db)
        context.logger.notice("device state changed", metadata: ["device": "\(id)", "state": "\(state.rawValue)"])
        return device.json
    }
}
