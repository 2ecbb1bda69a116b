#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a literal in a line's bytes: the pattern matcher's shortcut that rejects most log
/// lines (those without the rule's fixed text) before any NFA work.
enum LiteralSearch {
    /// Whether `needle` occurs in `haystack`; with `folded`, ASCII letters of the haystack
    /// are compared lower-cased (the needle is already lower-case).
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], folded: Bool) -> Bool {
        guard let base = haystack.baseAddress, !needle.isEmpty else { return needle.isEmpty }
        let count = haystack.count
        guard needle.count <= count else { return false }
        if folded { return containsFolded(haystack, needle) }
        return needle.withUnsafeBufferPointer { needle in
            guard let needleBase = needle.baseAddress else { return false }
            let first = Int32(needle[0])
            var offset = 0
            let last = count - needle.count
            while offset <= last {
                guard let found = memchr(base + offset, first, last - offset + 1) else { return false }
                let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + at, needleBase, needle.count) == 0 { return true }
                offset = at + 1
            }
            return false
        }
    }

    static func containsFolded(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        @inline(__always) func lower(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }
        let last = haystack.count - needle.count
        let first = needle[0]
        var offset = 0
        while offset <= last {
            if lower(haystack[offset]) == first {
                var index = 1
                while index < needle.count, lower(haystack[offset + index]) == needle[index] { index += 1 }
                if index == needle.count { return true }
            }
            offset += 1
        }
        return false
    }
}
