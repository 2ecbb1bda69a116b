import PiggybackProtocol
import Testing

/// The word-at-a-time mask must equal RFC 6455's definition (byte i XOR key[i mod 4]) for
/// every length around the word boundaries, out of place and in place.
@Suite struct WebSocketMaskTests {
    static func reference(_ bytes: [UInt8], _ key: [UInt8]) -> [UInt8] {
        bytes.enumerated().map { $0.element ^ key[$0.offset % 4] }
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 262_151])
    func equalsTheDefinition(count: Int) {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let key = (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let mask = WebSocketMask(key[0], key[1], key[2], key[3])
        var out = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeBytes { source in out.withUnsafeMutableBytes { mask.apply(source, to: $0) } }
        #expect(out == Self.reference(bytes, key))
        var inPlace = bytes
        inPlace.withUnsafeMutableBytes { mask.apply(UnsafeRawBufferPointer($0), to: $0) }
        #expect(inPlace == out)
    }

    @Test func maskingTwiceGivesTheBytesBack() {
        let bytes = Array("a telex 50 chunk of collected data".utf8)
        let mask = WebSocketMask.random()
        var data = bytes
        for _ in 0..<2 { data.withUnsafeMutableBytes { mask.apply(UnsafeRawBufferPointer($0), to: $0) } }
        #expect(data == bytes)
    }
}
