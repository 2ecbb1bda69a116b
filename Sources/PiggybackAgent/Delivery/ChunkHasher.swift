import Crypto
import Dispatch
import NIOCore
import Synchronization

/// The SHA-256 of a download, fed chunk by chunk on a serial queue of its own.
///
/// Hashing a chunk took as long as writing it and delayed every acknowledgement; on its own
/// queue it overlaps the wait for the next chunk instead. At most ``maxPending`` bytes wait
/// to be hashed (a slow CPU makes the receive loop wait, not memory grow).
final class ChunkHasher: @unchecked Sendable {
    /// Bytes queued but not yet hashed before `update` waits.
    static let maxPending = 16 << 20

    private let queue = DispatchQueue(label: "piggyback-download-hash")
    /// Touched only on `queue` (hence `@unchecked Sendable`).
    private var hasher: SHA256
    private let pending = Atomic<Int>(0)

    /// Continues `hasher` (e.g. over the part of a resumed download already on disk).
    init(continuing hasher: SHA256 = SHA256()) {
        self.hasher = hasher
    }

    /// Queues `data` for hashing; waits first while too much is queued.
    func update(_ data: ByteBuffer) async {
        if pending.load(ordering: .relaxed) > Self.maxPending { await drain() }
        pending.add(data.readableBytes, ordering: .relaxed)
        queue.async {
            data.withUnsafeReadableBytes { self.hasher.update(bufferPointer: $0) }
            self.pending.subtract(data.readableBytes, ordering: .relaxed)
        }
    }

    /// The digest of everything queued so far.
    func finalize() async -> SHA256.Digest {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: self.hasher.finalize()) }
        }
    }

    /// Returns once everything queued before it has been hashed.
    func drain() async {
        await withCheckedContinuation { continuation in queue.async { continuation.resume() } }
    }
}
