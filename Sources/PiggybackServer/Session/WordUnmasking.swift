import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import PiggybackProtocol

/// Unmasks the agents' WebSocket frames eight bytes at a time as they arrive.
///
/// RFC 6455 makes every client frame masked. NIO unmasks byte by byte (`webSocketUnmask`),
/// which a profile of a 200 MiB collection upload showed as a third of the server's CPU. This
/// extension, applied without negotiation (it changes nothing on the wire), unmasks each data
/// frame with ``WebSocketMask`` (64-bit XORs) into a fresh buffer and hands it on unmasked, so
/// the library's own unmasking finds nothing left to do.
struct WordUnmasking: WebSocketExtension {
    let name = "piggyback-word-unmasking"

    func processReceivedFrame(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws -> WebSocketFrame {
        Self.unmasked(frame)
    }

    /// The frame with its data unmasked and no mask key; frames another extension has put
    /// data into keep the library's path (none today).
    static func unmasked(_ frame: WebSocketFrame) -> WebSocketFrame {
        guard let key = frame.maskKey, frame.extensionData == nil else { return frame }
        var frame = frame
        frame.data = Self.unmask(frame.data, key: key)
        frame.maskKey = nil
        return frame
    }

    func processFrameToSend(_ frame: WebSocketFrame, context: WebSocketExtensionContext) async throws -> WebSocketFrame {
        frame
    }

    func shutdown() async {}

    /// `data` unmasked with `key` into a new buffer.
    static func unmask(_ data: ByteBuffer, key: WebSocketMaskingKey) -> ByteBuffer {
        let count = data.readableBytes
        let mask = WebSocketMask(key[0], key[1], key[2], key[3])
        var output = ByteBufferAllocator().buffer(capacity: count)
        data.withUnsafeReadableBytes { source in
            _ = output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
                mask.apply(source, to: target)
                return count
            }
        }
        return output
    }
}
