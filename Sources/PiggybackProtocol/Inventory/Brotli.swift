import CBrotli

/// Brotli compression of whole telex bodies, with a bound on what decompression may
/// produce, so that a hostile peer cannot make a few kilobytes expand into gigabytes.
///
/// Brotli rather than deflate: on inventory text it is 10–15 % smaller at quality 11
/// (docs/BENCHMARKS.md), and libbrotli is on practically every Linux terminal.
public enum Brotli {
    /// Compresses `input` at the given quality (0–11; 11 is the smallest and slowest).
    public static func compress(_ input: [UInt8], quality: Int32 = 11, windowBits: Int32 = 22) -> [UInt8] {
        var size = BrotliEncoderMaxCompressedSize(input.count)
        if size == 0 { size = input.count + 1024 }
        var output = [UInt8](repeating: 0, count: size)
        let ok = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                BrotliEncoderCompress(quality, windowBits, BROTLI_MODE_TEXT, source.count, source.baseAddress, &size, target.baseAddress)
            }
        }
        // The buffer is sized by BrotliEncoderMaxCompressedSize: failure is a library bug.
        precondition(ok == BROTLI_TRUE, "BrotliEncoderCompress failed with a maximum-size buffer")
        output.removeSubrange(size...)
        return output
    }

    /// Decompresses `input`, failing with `oversized` beyond `limit` bytes of output and
    /// with `malformed` on anything that is not a complete Brotli stream.
    public static func decompress(_ input: [UInt8], limit: Int) throws(TelexError) -> [UInt8] {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            throw TelexError(.internal, "cannot create a Brotli decoder (out of memory)")
        }
        defer { BrotliDecoderDestroyInstance(state) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return try input.withUnsafeBufferPointer { source throws(TelexError) -> [UInt8] in
            var availableIn = source.count
            var nextIn = source.baseAddress
            while true {
                var availableOut = chunk.count
                let result = chunk.withUnsafeMutableBufferPointer { target in
                    var nextOut = target.baseAddress
                    return BrotliDecoderDecompressStream(state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
                }
                let produced = chunk.count - availableOut
                guard output.count + produced <= limit else {
                    throw TelexError(.oversized, "compressed body expands beyond \(limit) bytes")
                }
                output.append(contentsOf: chunk[0..<produced])
                switch result {
                case BROTLI_DECODER_RESULT_SUCCESS:
                    guard availableIn == 0 else { throw TelexError(.malformed, "bytes after the end of the Brotli stream") }
                    return output
                case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
                    continue
                case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
                    throw TelexError(.truncated, "the Brotli stream ends early")
                default:
                    let code = BrotliDecoderGetErrorCode(state)
                    throw TelexError(.malformed, "corrupt Brotli stream (\(String(cString: BrotliDecoderErrorString(code))))")
                }
            }
        }
    }
}
