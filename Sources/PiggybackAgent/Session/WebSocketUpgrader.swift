import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The HTTP/1.1 upgrade to a WebSocket (RFC 6455 section 4), leaving a pipeline with our
/// ``MaskingFrameEncoder`` and NIO's frame decoder.
///
/// NIO's own client upgrader always installs its byte-by-byte masking encoder, which cannot be
/// taken out again; this one is the same handshake with our encoder in its place.
struct WebSocketUpgrader: NIOTypedHTTPClientProtocolUpgrader {
    /// What the upgrade left: the framed channel, or the server's refusal.
    enum Result: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    typealias UpgradeResult = Result

    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    /// `Sec-WebSocket-Key`: 16 random bytes, base64.
    let requestKey: String
    /// Largest frame accepted from the server.
    let maxFrameSize: Int

    init(maxFrameSize: Int) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        self.requestKey = Data(bytes).base64EncodedString()
        self.maxFrameSize = maxFrameSize
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Key", value: requestKey)
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Version", value: "13")
    }

    /// The server must prove it read our key: base64(SHA-1(key + the RFC's GUID)).
    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        let accept = upgradeResponse.headers["Sec-WebSocket-Accept"]
        return accept.count == 1 && accept[0] == Self.acceptValue(for: requestKey)
    }

    static func acceptValue(for key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return Data(digest).base64EncodedString()
    }

    func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Result> {
        channel.eventLoop.makeCompletedFuture {
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(MaskingFrameEncoder())
            try operations.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
            try operations.addHandler(WebSocketProtocolErrorHandler(isServer: false))
            return .upgraded(try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel))
        }
    }
}
