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

    /// The folded search: candidates are found with `memchr` for both cases of the
    /// needle's first byte, then compared lower-cased.
    static func containsFolded(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let base = haystack.baseAddress else { return false }
        @inline(__always) func lower(_ byte: UInt8) -> UInt8 { byte &- 65 < 26 ? byte | 0x20 : byte }
        let last = haystack.count - needle.count
        let first = needle[0]
        let other = first &- 97 < 26 ? first - 32 : first
        func find(_ byte: UInt8, from offset: Int) -> Int {
            guard offset <= last, let found = memchr(base + offset, Int32(byte), last - offset + 1) else { return Int.max }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        var nextLower = find(first, from: 0)
        var nextUpper = other == first ? Int.max : find(other, from: 0)
        while true {
            let offset = min(nextLower, nextUpper)
            guard offset <= last else { return false }
            var index = 1
            while index < needle.count, lower(haystack[offset + index]) == needle[index] { index += 1 }
            if index == needle.count { return true }
            if offset == nextLower { nextLower = find(first, from: offset + 1) }
            if offset == nextUpper { nextUpper = find(other, from: offset + 1) }
        }
    }
}
