import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line in fixed-size chunks, so a collected log of any size is
/// analysed in constant memory: lines end at `\n` (a trailing `\r` is dropped), and a line
/// longer than the limit is cut there (the rest of it is skipped).
public struct LogLineReader: Sendable {
    /// Longest line handed out, in bytes.
    public var maxLineBytes: Int
    /// Bytes read per system call.
    public var chunkBytes: Int

    /// What a pass over a file saw.
    public struct Summary: Sendable, Equatable {
        /// Lines handed out (a cut line counts once).
        public var lines = 0
        /// Bytes read.
        public var bytes: Int64 = 0
        /// Lines longer than the limit, cut.
        public var truncated = 0
    }

    /// A reader with the default limits (``SafePattern/maxLineBytes``, 256 KiB reads).
    public init(maxLineBytes: Int = SafePattern.maxLineBytes, chunkBytes: Int = 256 * 1024) {
        self.maxLineBytes = max(1, maxLineBytes)
        self.chunkBytes = max(4096, chunkBytes)
    }

    /// Calls `body` with each line's bytes (valid only during the call).
    public func forEachLine(in file: URL, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Summary {
        let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ServerError(.storage, "cannot open \(file.path) for analysis: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let capacity = chunkBytes + maxLineBytes
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        guard let base = buffer.baseAddress else { return Summary() }
        var summary = Summary()
        var filled = 0
        var skipping = false
        func emit(_ start: Int, _ end: Int) throws {
            var end = end
            if end > start, base[end - 1] == 13 { end -= 1 }
            summary.lines += 1
            try body(UnsafeBufferPointer(start: base + start, count: end - start))
        }
        while true {
            let count = read(descriptor, base + filled, capacity - filled)
            if count < 0 {
                if errno == EINTR { continue }
                throw ServerError(.storage, "cannot read \(file.path) for analysis: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            summary.bytes += Int64(count)
            let end = filled + count
            var start = 0
            var cursor = filled
            while cursor < end, let found = memchr(base + cursor, 10, end - cursor) {
                let newline = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if skipping {
                    skipping = false
                } else {
                    if newline - start > maxLineBytes { summary.truncated += 1 }
                    try emit(start, min(newline, start + maxLineBytes))
                }
                start = newline + 1
                cursor = start
            }
            let remaining = end - start
            if skipping {
                filled = 0
            } else if remaining >= maxLineBytes {
                try emit(start, start + maxLineBytes)
                summary.truncated += 1
                skipping = true
                filled = 0
            } else {
                if remaining > 0, start > 0 { memmove(base, base + start, remaining) }
                filled = remaining
            }
        }
        if filled > 0, !skipping { try emit(0, filled) }
        return summary
    }
}
