import Foundation
import PiggybackProtocol
import Testing

/// The hand-written chunk frames are exactly what the generated code writes and reads.
@Suite struct ChunkFrameTests {
    @Test(arguments: [(0, 0), (1, 1), (300, 127), (1 << 40, 70_000)])
    func headerPlusDataDecodesAsTheGeneratedMessage(offset: UInt64, count: Int) throws {
        let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frame = ChunkFrame.header(code: .delivery, itemID: "0192f0aa-item", offset: offset, count: count) + data
        guard case .delivery(let delivery) = try TelexCodec().decode(frame), case .chunk(let chunk)? = delivery.body else {
            Issue.record("not a chunk")
            return
        }
        #expect(chunk.itemID == "0192f0aa-item" && chunk.offset == offset && Array(chunk.data) == data)

        // And the generated encoding is read by the parser.
        var message = WireDelivery()
        message.chunk = chunk
        let generated = try TelexCodec().encode(.delivery(message))
        #expect(generated == frame)
        let parsed = try #require(generated.withUnsafeBytes { ChunkFrame.parse($0, code: .delivery) })
        #expect(parsed.itemID == "0192f0aa-item" && parsed.offset == offset && Array(generated[parsed.data]) == data)
    }

    @Test func otherFramesAreLeftToTheGeneralPath() throws {
        var offer = WireDelivery()
        offer.offer = WireOffer()
        let frames: [[UInt8]] = [
            try TelexCodec().encode(.delivery(offer)),
            try TelexCodec().encode(.endAck(WireEndAck())),
            ChunkFrame.header(code: .collectedData, itemID: "x", offset: 1, count: 1) + [7],
            Array(ChunkFrame.header(code: .delivery, itemID: "x", offset: 1, count: 4).dropLast()) + [4, 1, 2],  // length lies
            [0x04, 0x06, 0x12, 0x03, 0x0A, 0x05, 0x41],  // item id longer than the frame
            [0x04, 0x06, 0x12, 0x02, 0x28, 0x01],  // unknown field
        ]
        for frame in frames {
            #expect(frame.withUnsafeBytes { ChunkFrame.parse($0, code: .delivery) } == nil, "\(frame.prefix(8))")
        }
    }
}
