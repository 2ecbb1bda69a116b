import Foundation
import Hummingbird

/// Admin routes for device labels and per-scope inventory requests (docs/JSON.md).
extension AdminAPI {
    func addInventoryRequestRoutes(to router: Router<BasicRequestContext>) {
        router.put("/v1/devices/:id/labels") { request, ctx in try await setLabels(request, ctx) }
        router.get("/v1/inventory-requests") { _, _ in try await inventoryRequests() }
        router.put("/v1/inventory-requests") { request, ctx in try await setInventoryRequest(request, ctx) }
        router.delete("/v1/inventory-requests") { request, _ in try await removeInventoryRequest(request) }
    }

    func setLabels(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.Labels {
        let id = try ctx.parameters.require("id")
        _ = try await findDevice(id)
        let body = try await request.decode(as: AdminJSON.Labels.self, context: ctx)
        try await context.requests.setLabels(deviceID: id, body.labels)
        return AdminJSON.Labels(labels: try await context.requests.labels(deviceID: id))
    }

    func inventoryRequests() async throws -> [AdminJSON.InventoryRequest] {
        try await context.requests.list().map { AdminJSON.InventoryRequest(scope: $0.scope, sections: $0.sections) }
    }

    func setInventoryRequest(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.InventoryRequest {
        let body = try await request.decode(as: AdminJSON.InventoryRequest.self, context: ctx)
        let scope = try InventoryRequests.Scope(parsing: body.scope)
        if case .device(let id) = scope { _ = try await findDevice(id) }
        try await context.requests.set(scope: scope, sections: body.sections)
        return AdminJSON.InventoryRequest(scope: scope.description, sections: Array(Set(body.sections)).sorted())
    }

    func removeInventoryRequest(_ request: Request) async throws -> AdminJSON.InventoryRequest {
        guard let text = request.uri.queryParameters.get("scope") else {
            throw AdminError(.badRequest, "invalid", "give ?scope=fleet, device:ID or label:KEY=VALUE")
        }
        let scope = try InventoryRequests.Scope(parsing: text)
        try await context.requests.set(scope: scope, sections: nil)
        return AdminJSON.InventoryRequest(scope: scope.description, sections: [])
    }
}

extension AdminJSON {
    /// A device's labels; in a PUT, a null value removes the label.
    struct Labels: ResponseCodable {
        var labels: [String: String?]

        init(labels: [String: String?]) { self.labels = labels }
        init(labels: [String: String]) { self.labels = labels.mapValues { Optional($0) } }
    }

    /// The sections asked for in one scope; empty `sections` asks for every section.
    struct InventoryRequest: ResponseCodable {
        var scope: String
        var sections: [String]
    }
}
