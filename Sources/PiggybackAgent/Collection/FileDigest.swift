import Crypto
import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 over a byte range of an open file, read with `pread` in 1 MiB pieces.
enum FileDigest {
    /// The hex digest of `count` bytes at `start`; throws when the file is shorter.
    static func sha256(descriptor: Int32, from start: UInt64 = 0, count: UInt64) throws -> String {
        Hex.encode(try hasher(descriptor: descriptor, from: start, count: count).finalize())
    }

    /// The same, computed on a thread of its own at idle CPU and I/O priority: hashing a
    /// large collected file must not compete with the user's work.
    /// `strict`: SCHED_IDLE and idle I/O (the throttle is on), else nice 19.
    static func sha256Idle(descriptor: Int32, from start: UInt64 = 0, count: UInt64, strict: Bool) async throws -> String {
        try await IdleThread.run(name: "piggyback-hash", strict: strict) { try sha256(descriptor: descriptor, from: start, count: count) }
    }

    /// A digest fed with `count` bytes at `start` (to be continued by the caller).
    static func hasher(descriptor: Int32, from start: UInt64 = 0, count: UInt64) throws -> SHA256 {
        var hasher = SHA256()
        let pieceSize = 1 << 20
        let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: pieceSize, alignment: 16)
        defer { piece.deallocate() }
        var done: UInt64 = 0
        while done < count {
            let wanted = Int(min(UInt64(pieceSize), count - done))
            let read = pread(descriptor, piece.baseAddress, wanted, off_t(start + done))
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw AgentError(.storage, "cannot read: \(String(cString: strerror(errno)))") }
            guard read > 0 else { throw AgentError(.storage, "the file is shorter than expected (\(start + done) of \(start + count) bytes)") }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: piece[..<read]))
            done += UInt64(read)
        }
        return hasher
    }
}
