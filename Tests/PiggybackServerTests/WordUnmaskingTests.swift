import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
@testable import PiggybackServer
import Testing

/// The server's word-at-a-time unmasking must give exactly what RFC 6455's byte-wise
/// unmasking (NIO's) gives, for every length around the word boundaries and any key.
@Suite struct WordUnmaskingTests {
    @Test(arguments: [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 65_537])
    func matchesTheByteWiseUnmasking(count: Int) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = WebSocketMaskingKey.random()
        var expected = ByteBuffer(bytes: bytes)
        expected.webSocketUnmask(key)
        #expect(WordUnmasking.unmask(ByteBuffer(bytes: bytes), key: key) == expected)
    }

    @Test func aSliceOfALargerBufferIsUnmaskedFromItsReaderIndex() {
        var buffer = ByteBuffer(bytes: Array(0..<100 as Range<UInt8>))
        buffer.moveReaderIndex(forwardBy: 5)
        let key: WebSocketMaskingKey = [0x12, 0x34, 0x56, 0x78]
        var expected = buffer
        expected.webSocketUnmask(key)
        #expect(WordUnmasking.unmask(buffer, key: key) == expected)
    }

    @Test func aMaskedFrameLeavesUnmaskedAndOthersPassUnchanged() {
        let key: WebSocketMaskingKey = [1, 2, 3, 4]
        var payload = ByteBuffer(bytes: Array("telex 50 chunk".utf8))
        payload.webSocketMask(key)
        let out = WordUnmasking.unmasked(WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: payload))
        #expect(out.maskKey == nil)
        #expect(out.unmaskedData == ByteBuffer(bytes: Array("telex 50 chunk".utf8)))
        let plain = WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [9, 9]))
        #expect(WordUnmasking.unmasked(plain) == plain)
    }
}
