import NIOCore
import NIOWebSocket
import PiggybackProtocol

/// Writes the terminal's WebSocket frames: header, a fresh masking key per frame, and the
/// payload masked eight bytes at a time into one buffer.
///
/// It takes the place of NIO's `WebSocketFrameEncoder`, whose byte-by-byte masking was 38 % of
/// the agent's CPU on a bulk upload (docs/BENCHMARKS.md). The frames are the same RFC 6455
/// frames; every one is masked, as a client's must be, whatever `maskKey` it carries.
final class MaskingFrameEncoder: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        context.write(wrapOutboundOut(Self.encode(frame, mask: .random(), allocator: context.channel.allocator)), promise: promise)
    }

    /// The frame on the wire, masked with `mask` (extension data, if any, first).
    static func encode(_ frame: WebSocketFrame, mask: WebSocketMask, allocator: ByteBufferAllocator) -> ByteBuffer {
        var payload = frame.data
        if var extensionData = frame.extensionData {
            extensionData.writeBuffer(&payload)
            payload = extensionData
        }
        let length = payload.readableBytes
        var buffer = allocator.buffer(capacity: 14 + length)
        var first: UInt8 = frame.fin ? 0x80 : 0
        if frame.rsv1 { first |= 0x40 }
        if frame.rsv2 { first |= 0x20 }
        if frame.rsv3 { first |= 0x10 }
        first |= UInt8(webSocketOpcode: frame.opcode)
        buffer.writeInteger(first)
        switch length {
        case 0...125:
            buffer.writeInteger(UInt8(0x80 | length))
        case 126...Int(UInt16.max):
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        default:
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        buffer.writeMultipleIntegers(mask.key.0, mask.key.1, mask.key.2, mask.key.3)
        payload.withUnsafeReadableBytes { source in
            _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
                mask.apply(source, to: target)
                return length
            }
        }
        return buffer
    }
}
