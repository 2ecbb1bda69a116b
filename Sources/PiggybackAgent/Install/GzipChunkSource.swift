import CompressNIO
import NIOCore

/// Decompresses a gzip stream piece by piece (CompressNIO's zlib inflater), so a tar.gz is
/// unpacked with bounded memory. A truncated or corrupt stream is an error, not a short archive.
struct GzipChunkSource<Input: ByteChunkSource>: ByteChunkSource {
    private var input: Input
    private let inflater: ZlibDecompressor
    private var pending: ByteBuffer
    private var inputEnded = false
    private var streamEnded = false
    private let outputSize: Int

    init(_ input: Input, outputSize: Int = 64 * 1024) throws {
        self.input = input
        self.outputSize = outputSize
        do {
            inflater = try ZlibDecompressor(algorithm: .gzip)
        } catch {
            throw InstallFailure("cannot start gzip decompression: \(error)")
        }
        // Never empty storage: the inflater needs a base address even with no input left.
        pending = ByteBufferAllocator().buffer(capacity: 16)
    }

    mutating func nextChunk() throws -> ByteBuffer? {
        while !streamEnded {
            if pending.readableBytes == 0, !inputEnded {
                if let chunk = try input.nextChunk() { pending = chunk } else { inputEnded = true }
            }
            var output = ByteBufferAllocator().buffer(capacity: outputSize)
            let before = pending.readableBytes
            var needsInput = false
            var returned = false
            do {
                try inflater.inflate(from: &pending, to: &output)
                returned = true
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The output piece is full; the rest comes with the next call.
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                needsInput = true
            } catch {
                throw InstallFailure("the package is not valid gzip data (\(error)); it may be corrupt")
            }
            let progressed = pending.readableBytes != before || output.readableBytes > 0
            // zlib answers a finished stream with Z_STREAM_END and no progress; an unfinished
            // one with no progress is an error (thrown above as needing input).
            if returned, !progressed { streamEnded = true }
            if output.readableBytes > 0 { return output }
            if inputEnded, pending.readableBytes == 0, needsInput || !progressed, !streamEnded {
                throw InstallFailure("the package's gzip data ends early; it is truncated")
            }
        }
        return nil
    }
}
