import Hummingbird
import NIOCore

/// `GET /metrics`: the server's counters in the Prometheus text format, on the admin
/// listener and behind its bearer token (Prometheus: `authorization: {credentials: TOKEN}`).
extension AdminAPI {
    func addMetricsRoutes(to router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: ServerMetrics.contentType],
                body: .init(byteBuffer: ByteBuffer(bytes: context.metrics.registry.emitToBuffer()))
            )
        }
    }
}
