import Foundation
import NIOCore
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

extension TelexChannel {
    /// Sends one chunk frame (50 during uploads) with `count` bytes read from `descriptor`
    /// at `position` straight into the outgoing buffer (see `ChunkFrame`): one copy, file to
    /// frame, instead of three through the generated message.
    ///
    /// Returns false when the file ended before `count` bytes (it shrank under us); nothing
    /// is sent then.
    mutating func sendChunk(code: TelexCode, itemID: String, offset: UInt64, from descriptor: Int32, at position: UInt64, count: Int) async throws -> Bool {
        let header = ChunkFrame.header(code: code, itemID: itemID, offset: offset, count: count)
        var buffer = ByteBufferAllocator().buffer(capacity: header.count + count)
        buffer.writeBytes(header)
        var filled = 0
        while filled < count {
            var failure: Int32 = 0
            let wanted = count - filled
            let at = off_t(position) + off_t(filled)
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { pointer in
                let result = pread(descriptor, pointer.baseAddress, wanted, at)
                if result < 0 { failure = errno }
                return max(result, 0)
            }
            if failure == EINTR { continue }
            guard failure == 0 else {
                throw AgentError(.storage, "cannot read the file being uploaded: \(String(cString: strerror(failure)))")
            }
            if read == 0 { return false }
            filled += read
        }
        let size = buffer.readableBytes
        try await link.send(buffer)
        bytesSent += size
        trace.record(sent: true, code: code, payload: size - 2)
        return true
    }
}
