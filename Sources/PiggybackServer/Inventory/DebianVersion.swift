/// A Debian package version, `[epoch:]upstream[-revision]`, ordered exactly as
/// `dpkg --compare-versions` orders it.
///
/// Why: terminals report their installed packages with Debian versions, and a rule such as
/// "openssl older than 3.0.11" must agree with what dpkg and apt call older. Plain string or
/// number comparison gets `1.0~rc1 < 1.0`, `2.30 > 2.4` and epochs wrong.
///
/// Parsing follows dpkg's `parseversion`: leading and trailing whitespace is ignored, the
/// epoch is the text before the first colon (missing means 0), the revision is the text
/// after the last hyphen (missing means empty). Where dpkg only warns (an upstream version
/// that does not start with a digit, characters outside Debian policy) this type refuses,
/// so that words such as `debian` are not mistaken for versions.
public struct DebianVersion: Comparable, Sendable, CustomStringConvertible {
    /// The epoch, 0 when the text has none; it outranks everything else in the ordering.
    public let epoch: Int
    /// The upstream bytes, kept as ASCII so that comparison needs no re-encoding.
    private let upstreamBytes: [UInt8]
    /// The revision bytes; empty when the text has no hyphen.
    private let revisionBytes: [UInt8]

    /// The upstream version (between the epoch's colon and the last hyphen).
    public var upstream: String { String(decoding: upstreamBytes, as: UTF8.self) }

    /// The Debian revision (after the last hyphen), empty when there is none.
    public var revision: String { String(decoding: revisionBytes, as: UTF8.self) }

    /// The canonical form dpkg prints: the epoch only when it is not 0, the revision only when
    /// it is not empty, so `0:1.0` reads `1.0`.
    public var description: String {
        (epoch != 0 ? "\(epoch):" : "") + upstream + (revisionBytes.isEmpty ? "" : "-" + revision)
    }

    /// Parses `text`, or returns nil when it is not a valid Debian version: empty, embedded
    /// whitespace, an epoch that is empty, not all digits or above `Int32.max` (dpkg's
    /// limit), nothing after the colon, an empty revision after a trailing hyphen, an upstream
    /// that is empty or does not start with a digit, or characters outside Debian policy
    /// (upstream: letters, digits, `.+~-:`; revision: letters, digits, `.+~`).
    public init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while let first = bytes.first, Self.isSpace(first) { bytes.removeFirst() }
        while let last = bytes.last, Self.isSpace(last) { bytes.removeLast() }
        guard !bytes.isEmpty, !bytes.contains(where: Self.isSpace) else { return nil }

        var epoch = 0
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            let digits = bytes[..<colon]
            guard !digits.isEmpty, digits.allSatisfy(Self.isDigit) else { return nil }
            for digit in digits {
                epoch = epoch * 10 + Int(digit - UInt8(ascii: "0"))
                guard epoch <= Int(Int32.max) else { return nil }
            }
            bytes = bytes[bytes.index(after: colon)...]
            guard !bytes.isEmpty else { return nil }
        }

        var upstream = bytes
        var revision = bytes[bytes.endIndex...]
        if let hyphen = bytes.lastIndex(of: UInt8(ascii: "-")) {
            upstream = bytes[..<hyphen]
            revision = bytes[bytes.index(after: hyphen)...]
            guard !revision.isEmpty else { return nil }
        }
        guard let first = upstream.first, Self.isDigit(first),
              upstream.allSatisfy({ Self.isAlphanumeric($0) || ".+~-:".utf8.contains($0) }),
              revision.allSatisfy({ Self.isAlphanumeric($0) || ".+~".utf8.contains($0) })
        else { return nil }

        self.epoch = epoch
        self.upstreamBytes = Array(upstream)
        self.revisionBytes = Array(revision)
    }

    /// Orders by epoch, then upstream, then revision, as dpkg does.
    public static func < (lhs: DebianVersion, rhs: DebianVersion) -> Bool {
        compare(lhs, rhs) < 0
    }

    /// Equal in dpkg's sense, which is coarser than equal text: `1.0`, `0:1.0`, `1.00` and
    /// `1.0-0` are all the same version. `==` must agree with `<`, so it cannot compare text.
    public static func == (lhs: DebianVersion, rhs: DebianVersion) -> Bool {
        compare(lhs, rhs) == 0
    }

    /// Three-way comparison (negative, zero, positive), the shape dpkg's `dpkg_version_compare`
    /// has, so both operators above share one implementation.
    static func compare(_ lhs: DebianVersion, _ rhs: DebianVersion) -> Int {
        if lhs.epoch != rhs.epoch { return lhs.epoch < rhs.epoch ? -1 : 1 }
        let upstream = verrevcmp(lhs.upstreamBytes, rhs.upstreamBytes)
        if upstream != 0 { return upstream }
        return verrevcmp(lhs.revisionBytes, rhs.revisionBytes)
    }

    /// dpkg's `verrevcmp`: alternately compares a run of non-digits character by character
    /// (by `order`) and a run of digits numerically (leading zeros ignored, longer run wins,
    /// else the first differing digit decides). A string that has ended reads as weight 0,
    /// which is why `~` (weight -1) sorts even before the end of the string.
    static func verrevcmp(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            while (i < a.count && !isDigit(a[i])) || (j < b.count && !isDigit(b[j])) {
                let left = i < a.count ? order(a[i]) : 0
                let right = j < b.count ? order(b[j]) : 0
                if left != right { return left - right }
                i += 1
                j += 1
            }
            while i < a.count && a[i] == UInt8(ascii: "0") { i += 1 }
            while j < b.count && b[j] == UInt8(ascii: "0") { j += 1 }
            var firstDifference = 0
            while i < a.count, j < b.count, isDigit(a[i]), isDigit(b[j]) {
                if firstDifference == 0 { firstDifference = Int(a[i]) - Int(b[j]) }
                i += 1
                j += 1
            }
            if i < a.count && isDigit(a[i]) { return 1 }
            if j < b.count && isDigit(b[j]) { return -1 }
            if firstDifference != 0 { return firstDifference }
        }
        return 0
    }

    /// dpkg's `order`: the weight of one non-digit character. Digits weigh 0 (they end a
    /// non-digit run, like the end of the string), letters their ASCII code, `~` -1, and any
    /// other character its code + 256, so letters sort before all other symbols.
    private static func order(_ c: UInt8) -> Int {
        if isDigit(c) { return 0 }
        if isLetter(c) { return Int(c) }
        if c == UInt8(ascii: "~") { return -1 }
        return Int(c) + 256
    }

    /// ASCII digit test; dpkg uses the C locale's `isdigit`, so no Unicode digits count.
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// ASCII letter test, as dpkg's `c_isalpha`.
    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

    /// Letters or digits, the base of both policy character sets.
    private static func isAlphanumeric(_ c: UInt8) -> Bool { isDigit(c) || isLetter(c) }

    /// dpkg's `c_isspace`: the whitespace it trims around a version and refuses inside one.
    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
}
