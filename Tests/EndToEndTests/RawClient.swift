import Foundation
import Logging
import NIOCore
import NIOSSL
import PiggybackProtocol
import Synchronization
import WSClient

/// A bare telex client for tests that must send what a well-behaved agent never would:
/// replayed, malformed, oversized or out-of-sequence frames.
struct RawChannel {
    var inbound: WebSocketInboundStream.AsyncIterator
    let outbound: WebSocketOutboundWriter
    let codec = TelexCodec()

    mutating func send(_ telex: Telex) async throws {
        try await sendFrame(try codec.encode(telex))
    }

    mutating func sendFrame(_ frame: [UInt8]) async throws {
        try await outbound.write(.binary(ByteBuffer(bytes: frame)))
    }

    mutating func sendText(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// The next whole frame, or nil once the server has closed.
    mutating func receiveFrame() async throws -> [UInt8]? {
        var frame: [UInt8] = []
        while let fragment = try await inbound.next() {
            frame.append(contentsOf: fragment.data.readableBytesView)
            if fragment.fin { return frame }
        }
        return nil
    }

    mutating func receive() async throws -> Telex? {
        guard let frame = try await receiveFrame() else { return nil }
        return try codec.decode(frame)
    }

    /// Expects a 1090 and returns its error.
    mutating func expectServerError() async throws -> TelexError {
        guard case .serverError(let wire)? = try await receive() else { throw TestFailure("expected 1090") }
        return TelexError(wire: wire)
    }

    /// Opens a session with 10 and returns the server's 1010.
    mutating func hello() async throws -> WireServerAddress {
        var discover = WireDiscover()
        discover.protocolMin = 1
        discover.protocolMax = 1
        try await send(.discover(discover))
        guard case .serverAddress(let address)? = try await receive() else { throw TestFailure("expected 1010") }
        return address
    }
}

enum RawClient {
    /// Connects to the server, trusting its CA, and runs `script` on the session.
    static func session(_ server: TestServer, _ script: @escaping @Sendable (inout RawChannel) async throws -> Void) async throws {
        let ca = try NIOSSLCertificate(bytes: Array(server.server.authority.caPEM.utf8), format: .pem)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([ca])
        tls.certificateVerification = .noHostnameVerification
        var ws = WebSocketClientConfiguration(maxFrameSize: 1 << 24)
        ws.sniHostname = "piggyback.invalid"
        let result = Mutex<(any Error)?>(nil)
        let wsConfiguration = ws
        let tlsConfiguration = tls
        try await WebSocketClient.connect(url: server.endpoint, configuration: wsConfiguration, tlsConfiguration: tlsConfiguration, logger: Logger(label: "test.raw")) { inbound, outbound, _ in
            var channel = RawChannel(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            do {
                try await script(&channel)
            } catch {
                result.withLock { $0 = error }
            }
        }
        if let error = result.withLock({ $0 }) { throw error }
    }
}
