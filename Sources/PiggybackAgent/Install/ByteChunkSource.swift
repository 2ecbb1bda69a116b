import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Archive bytes in pieces, so an archive is never held whole in memory.
protocol ByteChunkSource {
    /// The next non-empty piece, nil at the end.
    mutating func nextChunk() throws -> ByteBuffer?
}

/// Reads a file in fixed-size pieces.
struct FileChunkSource: ByteChunkSource {
    private let handle: FileHandle
    private let chunkSize: Int

    /// Opens `url` for reading; the handle closes when the source is released.
    init(url: URL, chunkSize: Int = 64 * 1024) throws {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw InstallFailure("cannot open the package \(url.path): \(error.localizedDescription)")
        }
        self.chunkSize = chunkSize
    }

    mutating func nextChunk() throws -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: chunkSize)
        let descriptor = handle.fileDescriptor
        let size = chunkSize
        var failure: Int32 = 0
        while true {
            let count = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { pointer in
                let count = read(descriptor, pointer.baseAddress, size)
                if count < 0 { failure = errno }
                return max(count, 0)
            }
            if failure == EINTR { failure = 0; continue }
            if failure != 0 { throw InstallFileSystem.failure("cannot read the package", "", failure) }
            return count == 0 ? nil : buffer
        }
    }
}
