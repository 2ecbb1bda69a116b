import Foundation
import Hummingbird

/// Admin routes for log rules and alerts (issue 6; docs/JSON.md).
extension AdminAPI {
    func addAlertRoutes(to router: Router<BasicRequestContext>) {
        router.get("/v1/log-rules") { _, _ in try await context.alerts.rules().map(\.json) }
        router.post("/v1/log-rules") { request, ctx in try await addLogRule(request, ctx) }
        router.delete("/v1/log-rules/:name") { _, ctx in
            let name = try ctx.parameters.require("name")
            return try await context.alerts.removeRule(name: name.removingPercentEncoding ?? name).json
        }
        router.get("/v1/alerts") { request, _ in try await alerts(request) }
        router.post("/v1/alerts/:id/acknowledge") { _, ctx in try await acknowledge(ctx.parameters.require("id")) }
    }

    func addLogRule(_ request: Request, _ ctx: BasicRequestContext) async throws -> AdminJSON.LogRule {
        let body = try await request.decode(as: AdminJSON.LogRuleRequest.self, context: ctx)
        let spec = try LogRuleSpec(
            name: body.name, pattern: body.pattern, caseInsensitive: body.case_insensitive ?? false, path: body.path,
            threshold: body.threshold ?? 1, windowSeconds: body.window_s ?? 0,
            severity: body.severity ?? LogRuleSpec.Severity.warning.rawValue, remedy: body.remedy
        )
        return try await context.alerts.addRule(spec).json
    }

    /// `?device=ID` (that device's alerts), `?state=open|acknowledged`, `?limit=N` (default 1000).
    func alerts(_ request: Request) async throws -> [AdminJSON.Alert] {
        let query = request.uri.queryParameters
        let device = query.get("device").flatMap { $0.isEmpty ? nil : $0 }
        if let device { _ = try await findDevice(device) }
        var state: AlertRecord.State?
        if let text = query.get("state"), !text.isEmpty {
            guard let parsed = AlertRecord.State(rawValue: text) else {
                throw AdminError(.badRequest, "invalid", "state must be open or acknowledged, got \(text)")
            }
            state = parsed
        }
        let limit = min(max(query.get("limit", as: Int.self) ?? 1000, 1), 100_000)
        let alerts = try await context.alerts.alerts(deviceID: device, state: state, limit: limit)
        let hostnames = try await context.alerts.hostnames(alerts.map(\.deviceID))
        return alerts.map { $0.json(hostname: hostnames[$0.deviceID] ?? "") }
    }

    func acknowledge(_ text: String) async throws -> AdminJSON.Alert {
        guard let id = UUID(uuidString: text) else {
            throw AdminError(.badRequest, "invalid", "\(text) is not an alert id; see `piggyback admin alerts`")
        }
        let alert = try await context.alerts.acknowledge(id: id)
        return alert.json(hostname: try await context.alerts.hostnames([alert.deviceID])[alert.deviceID] ?? "")
    }
}
