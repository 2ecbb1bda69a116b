/// A set of characters for `[…]`, `\d`, `\w`, `\s` and their negations.
///
/// ASCII membership is a 128-bit table (already negated and case-closed), so the common case
/// costs one shift; other characters go through the ranges.
struct CharClass: Sendable, Equatable {
    /// ASCII members as written (before negation and case closure).
    var ascii = ASCIISet()
    /// Non-ASCII members as written.
    var ranges: [ClosedRange<UInt32>] = []
    /// Contains every non-ASCII character (from `\D`, `\W`, `\S`).
    var allNonASCII = false
    var negated = false
    var caseInsensitive = false
    /// ASCII membership after case closure and negation: what the matcher tests.
    private(set) var table = ASCIISet()

    static let digits: ASCIISet = { var set = ASCIISet(); set.insert(48...57); return set }()
    static let word: ASCIISet = {
        var set = ASCIISet()
        set.insert(48...57); set.insert(65...90); set.insert(97...122); set.insert(95)
        return set
    }()
    static let space: ASCIISet = {
        var set = ASCIISet()
        for c: UInt32 in [9, 10, 11, 12, 13, 32] { set.insert(c) }
        return set
    }()

    /// The class of `\d`, `\w`, `\s` (or negated: `\D`, `\W`, `\S`).
    static func predefined(_ letter: Character) -> CharClass? {
        var result = CharClass()
        return result.add(predefined: letter) ? result : nil
    }

    /// Adds `\d`, `\w` or `\s` (or their negations) to the members; false for other letters.
    @discardableResult
    mutating func add(predefined letter: Character) -> Bool {
        switch letter {
        case "d": ascii.formUnion(Self.digits)
        case "w": ascii.formUnion(Self.word)
        case "s": ascii.formUnion(Self.space)
        case "D": ascii.formUnion(Self.digits.inverted); allNonASCII = true
        case "W": ascii.formUnion(Self.word.inverted); allNonASCII = true
        case "S": ascii.formUnion(Self.space.inverted); allNonASCII = true
        default: return false
        }
        return true
    }

    /// Adds one character or a range.
    mutating func add(_ range: ClosedRange<UInt32>) {
        ascii.insert(range)
        if range.upperBound >= 128 { ranges.append(max(range.lowerBound, 128)...range.upperBound) }
    }

    /// Fixes the class for matching: case closure (when case-insensitive) and negation.
    mutating func finish(caseInsensitive: Bool) {
        self.caseInsensitive = caseInsensitive
        var closed = ascii
        if caseInsensitive {
            for c: UInt32 in 65...90 where ascii.contains(c) || ascii.contains(c + 32) {
                closed.insert(c)
                closed.insert(c + 32)
            }
        }
        table = negated ? closed.inverted : closed
    }

    /// Whether `c` (a scalar value, or an undecodable byte mapped above U+10FFFF) is in the class.
    @inline(__always) func contains(_ c: UInt32) -> Bool {
        if c < 128 { return table.contains(c) }
        return nonASCII(c) != negated
    }

    private func nonASCII(_ c: UInt32) -> Bool {
        if allNonASCII || inRanges(c) { return true }
        guard caseInsensitive else { return false }
        for variant in [CaseFold.lower(c), CaseFold.upper(c)] where variant != c {
            if variant < 128 ? ascii.contains(variant) : inRanges(variant) { return true }
        }
        return false
    }

    private func inRanges(_ c: UInt32) -> Bool {
        for range in ranges where range.contains(c) { return true }
        return false
    }
}

/// Simple (one character to one character) case mapping for case-insensitive patterns.
enum CaseFold {
    /// The lower-case form of `c`, or `c` itself.
    @inline(__always) static func lower(_ c: UInt32) -> UInt32 {
        if c < 128 { return c &- 65 < 26 ? c + 32 : c }
        return mapped(c) { $0.properties.lowercaseMapping }
    }

    /// The upper-case form of `c`, or `c` itself.
    static func upper(_ c: UInt32) -> UInt32 {
        if c < 128 { return c &- 97 < 26 ? c - 32 : c }
        return mapped(c) { $0.properties.uppercaseMapping }
    }

    private static func mapped(_ c: UInt32, _ mapping: (Unicode.Scalar) -> String) -> UInt32 {
        guard let scalar = Unicode.Scalar(c) else { return c }
        let result = mapping(scalar).unicodeScalars
        guard result.count == 1, let single = result.first else { return c }
        return single.value
    }
}
