import NIOCore
import NIOEmbedded
import NIOWebSocket
import PiggybackProtocol
@testable import PiggybackAgent
import Testing

/// The agent's own WebSocket framing: what `MaskingFrameEncoder` writes must be what NIO's
/// decoder (the server's) reads back, masked, for every length form of RFC 6455; and the
/// handshake's accept value must be the RFC's.
@Suite struct WebSocketFramingTests {
    /// Encodes `frame` with our encoder and decodes the bytes with NIO's decoder.
    static func roundTrip(_ frame: WebSocketFrame) throws -> WebSocketFrame {
        let encoder = EmbeddedChannel(handler: MaskingFrameEncoder())
        try encoder.writeOutbound(frame)
        var wire = ByteBuffer()
        while var part = try encoder.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }
        let decoder = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        try decoder.writeInbound(wire)
        return try #require(try decoder.readInbound(as: WebSocketFrame.self))
    }

    @Test(arguments: [0, 1, 125, 126, 127, 65_535, 65_536, 262_158])
    func nioDecodesWhatWeEncode(length: Int) throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let decoded = try Self.roundTrip(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: bytes)))
        #expect(decoded.maskKey != nil, "a client's frames are always masked")
        #expect(decoded.opcode == .binary)
        #expect(decoded.fin)
        #expect(decoded.unmaskedData == ByteBuffer(bytes: bytes))
        #expect(decoded.data != ByteBuffer(bytes: bytes) || length == 0 || decoded.maskKey == [0, 0, 0, 0])
    }

    @Test func controlFramesAndFragmentsKeepTheirHeaderBits() throws {
        var code = ByteBuffer()
        code.writeInteger(UInt16(1000))
        let close = try Self.roundTrip(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
        #expect(close.opcode == .connectionClose)
        #expect(close.unmaskedData == code)
        let fragment = try Self.roundTrip(WebSocketFrame(fin: false, opcode: .continuation, data: ByteBuffer(bytes: [1, 2, 3])))
        #expect(!fragment.fin)
        #expect(fragment.opcode == .continuation)
        #expect(fragment.unmaskedData == ByteBuffer(bytes: [1, 2, 3]))
    }

    @Test func eachFrameGetsAFreshKey() throws {
        let keys = try (0..<8).map { _ in try Self.roundTrip(WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [0]))).maskKey }
        #expect(Set(keys.map { "\(String(describing: $0))" }).count > 1)
    }

    @Test func acceptValueIsTheRFCExample() {
        // RFC 6455 section 1.3.
        #expect(WebSocketUpgrader.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
