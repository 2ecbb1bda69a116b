/// A regular expression whose matching time is bounded: O(pattern × line), never
/// backtracking, so a rule typed by an administrator (`(a+)+$`, say) cannot stall the server
/// on a hostile log line.
///
/// Neither `NSRegularExpression` nor Swift `Regex` bounds matching time, so log rules use
/// this engine: a parser for a documented subset of the usual syntax and a Thompson NFA
/// simulation over the line's Unicode scalars (see ``SafePatternMatcher``).
///
/// The subset:
/// - literals; `.` (any character but a line terminator); classes `[a-z0-9_]`, `[^…]`
///   (ASCII ranges or single characters; `\d \w \s \D \W \S` inside);
/// - escapes `\d \w \s \D \W \S` (ASCII: digits, `[A-Za-z0-9_]`, space/tab/CR/LF/FF/VT),
///   `\t \n \r \f \v`, `\xHH`, `\x{H…}`, and `\` before any punctuation for the character
///   itself (`\. \\ \[ \( \{ \* \+ \? \| \^ \$`…);
/// - anchors `^` (line start) and `$` (line end); word boundaries `\b`, `\B` (ASCII words);
/// - groups `( )` and `(?: )` (nothing is captured), alternation `|`;
/// - repetition `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}` with m, n ≤ 100 (expanded), each
///   optionally lazy (`*?`: the same lines match);
/// - the case-insensitive option (simple case mapping).
///
/// Refused when the rule is made, with the position: backreferences, lookaround, atomic
/// groups, possessive quantifiers, inline flags, named groups, Unicode properties, nested
/// classes, counts above 100, patterns above 1000 characters or above 10,000 steps once
/// repetitions are expanded. A match is found anywhere in the line unless anchored.
public struct SafePattern: Sendable, CustomStringConvertible {
    /// The pattern as written.
    public let source: String
    /// Whether letters match regardless of case.
    public let caseInsensitive: Bool
    let program: Program

    /// Longest pattern accepted, in characters.
    public static let maxLength = 1000
    /// Largest count in `{m,n}`.
    public static let maxRepeat = 100
    /// Largest compiled program (instructions after expanding `{m,n}`): bounds the work per
    /// character of input.
    public static let maxProgram = 10_000
    /// Lines are matched on at most this many bytes; the rest of a longer line is ignored.
    public static let maxLineBytes = 64 * 1024

    /// Parses and compiles `source`; throws ``SafePatternError`` (with the position) for
    /// anything outside the subset.
    public init(_ source: String, caseInsensitive: Bool = false) throws(SafePatternError) {
        let scalars = Array(source.unicodeScalars)
        guard scalars.count <= Self.maxLength else {
            throw SafePatternError("the pattern has \(scalars.count) characters, at most \(Self.maxLength) are allowed", position: Self.maxLength)
        }
        var parser = PatternParser(scalars: scalars)
        let tree = try parser.parse()
        self.source = source
        self.caseInsensitive = caseInsensitive
        self.program = try PatternCompiler.compile(tree, caseInsensitive: caseInsensitive)
    }

    /// Whether the pattern occurs in `line` (which should not contain the line break).
    public func matches(_ line: String) -> Bool {
        SafePatternMatcher(self).matches(line)
    }

    /// Compiled size: the per-character work of a match is proportional to it.
    public var instructionCount: Int { program.ops.count }

    public var description: String { caseInsensitive ? "/\(source)/i" : "/\(source)/" }
}

/// Why a pattern was refused, and where (0-based character offset into the pattern).
public struct SafePatternError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and what to write instead.
    public let message: String
    /// Character offset into the pattern where the problem starts.
    public let position: Int

    /// Creates an error at a character offset.
    public init(_ message: String, position: Int) {
        self.message = message
        self.position = position
    }

    public var description: String { "pattern error at position \(position + 1): \(message)" }
}

/// A compiled pattern: instructions of a Thompson NFA plus the facts that let the matcher
/// skip work (a literal every match contains, the characters a match can start with).
struct Program: Sendable {
    enum Op: Sendable {
        /// One character (case-folded when the pattern is case-insensitive).
        case char(UInt32)
        /// Any character but a line terminator.
        case any
        /// A character of `classes[index]`.
        case set(Int)
        /// Continue at both.
        case split(Int, Int)
        case jump(Int)
        case lineStart
        case lineEnd
        case wordBoundary
        case notWordBoundary
        case match
    }

    var ops: [Op] = []
    var classes: [CharClass] = []
    var caseInsensitive = false
    /// Matches can only begin at the start of the line.
    var anchoredStart = false
    /// Text every match contains: for each factor, one of its alternatives (UTF-8;
    /// ASCII-case-insensitive when `literalFolded`). See ``LiteralExtractor``.
    var literals: [[[UInt8]]] = []
    var literalFolded = false
    /// When the NFA has no live thread, the matcher may skip to the next byte that can
    /// start a match: ASCII bytes in `firstASCII`, or any non-ASCII byte when `firstNonASCII`.
    var canSkip = false
    var firstASCII = ASCIISet()
    var firstNonASCII = true
}

/// 128 bits, one per ASCII character.
struct ASCIISet: Sendable, Equatable {
    var low: UInt64 = 0
    var high: UInt64 = 0

    @inline(__always) func contains(_ c: UInt32) -> Bool {
        c < 64 ? (low >> UInt64(c)) & 1 == 1 : c < 128 ? (high >> UInt64(c - 64)) & 1 == 1 : false
    }

    mutating func insert(_ c: UInt32) {
        if c < 64 { low |= 1 << UInt64(c) } else if c < 128 { high |= 1 << UInt64(c - 64) }
    }

    mutating func insert(_ range: ClosedRange<UInt32>) {
        guard range.lowerBound < 128 else { return }
        for c in range.lowerBound...min(range.upperBound, 127) { insert(c) }
    }

    mutating func formUnion(_ other: ASCIISet) {
        low |= other.low
        high |= other.high
    }

    var inverted: ASCIISet { ASCIISet(low: ~low, high: ~high) }
}
