import Foundation
import Hummingbird

/// Admin API errors as JSON bodies: `{"error": {"code": "not_found", "message": "…"}}`.
struct AdminError: HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ error: ServerError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .notFound: .notFound
            case .invalid: .badRequest
            case .conflict: .conflict
            case .unauthorized: .unauthorized
            case .configuration, .storage: .internalServerError
            }
        self.init(status, error.code.rawValue, error.message)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(["error": ["code": code, "message": message]])
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}

/// Checks the admin bearer token on every request but the health check.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: AdminToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/v1/health" { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            token.matches(String(header.dropFirst("Bearer ".count)))
        else {
            throw AdminError(.unauthorized, "unauthorized", "missing or wrong admin token; pass --token or set PIGGYBACK_TOKEN (see DIR/admin-token)")
        }
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            throw AdminError(error)
        }
    }
}
