import Foundation
@testable import PiggybackServer
import Testing

/// The safe pattern engine: bounded work on catastrophic patterns, the same answers as
/// ICU's NSRegularExpression on the subset, and clear refusals outside it.
@Suite struct AlertPatternTests {
    /// Seeded generator so a failure reproduces.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Patterns that make backtracking engines take exponential time finish within a work
    /// budget linear in pattern × line (steps counted by the matcher, not wall time).
    @Test(arguments: ["(a+)+$", "(a*)*b", "(a|a)*c", "(a|aa)+$", "^(\\w+\\s?)*$", "(.*a){12}x", "(?:a?){30}a{30}!"])
    func catastrophicPatternsStayLinear(_ source: String) throws {
        let line = String(repeating: "a", count: 30_000) + "!"
        let pattern = try SafePattern(source)
        let matcher = SafePatternMatcher(pattern)
        let matched = matcher.matches(line)
        #expect(matched == (source == "(?:a?){30}a{30}!"))
        // Each position visits each instruction a bounded number of times.
        #expect(matcher.steps <= 6 * pattern.instructionCount * (line.utf8.count + 1))
        #expect(matcher.steps <= 40 * source.count * line.utf8.count)
    }

    @Test func longLinesAreCutForMatching() throws {
        let pattern = try SafePattern("needle")
        let matcher = SafePatternMatcher(pattern)
        #expect(matcher.matches(String(repeating: "x", count: SafePattern.maxLineBytes - 6) + "needle"))
        #expect(!matcher.matches(String(repeating: "x", count: SafePattern.maxLineBytes) + "needle"))
    }

    @Test func basics() throws {
        let cases: [(String, Bool, String, Bool)] = [
            ("segfault at [0-9a-f]+", false, "kernel: app[12]: segfault at 7f3a ip", true),
            ("^abc", false, "xabc", false),
            ("a.c$", false, "zzabc", true),
            ("ERROR", true, "an error here", true),
            ("\\bfoo\\b", false, "a foo b", true),
            ("\\bfoo\\b", false, "afoob", false),
            ("é.", false, "xéé", true),
            ("colou?r", false, "color", true),
            ("(?:x|y){3}", false, "xyx", true),
            ("\\x41\\x{263A}", false, "A☺", true),
            ("k", true, "\u{212A}", true),  // Kelvin sign folds to k
            ("[^a]", false, "\u{FF}", true),
            ("\\d{4}-\\d{2}", false, "on 2024-05", true),
        ]
        for (source, caseInsensitive, line, expected) in cases {
            #expect(try SafePattern(source, caseInsensitive: caseInsensitive).matches(line) == expected, "\(source) on \(line)")
        }
        // Bytes that are not UTF-8 are characters of their own for `.`, never literals.
        let raw: [UInt8] = Array("a".utf8) + [0xFF] + Array("b".utf8)
        let dot = SafePatternMatcher(try SafePattern("a.b"))
        #expect(raw.withUnsafeBufferPointer { dot.matches($0) })
    }

    @Test func refusalsNameTheConstructAndPosition() {
        let cases: [(String, Int, String)] = [
            ("(a)\\1", 3, "backreference"),
            ("x(?=a)", 1, "lookahead"),
            ("(?<=a)b", 0, "lookbehind"),
            ("a*+", 2, "possessive"),
            ("ab{101}", 2, "limited to 100"),
            ("(?i)a", 0, "--ignore-case"),
            ("ab[c", 2, "missing ]"),
            ("a)", 1, "unmatched )"),
            ("\\p{L}", 0, "Unicode properties"),
            ("((a{100}){100}){2}", 15, "too large"),
            ("*a", 0, "nothing to repeat"),
            ("a**", 2, "cannot follow another"),
            ("(?>a)", 0, "atomic"),
            ("(?<n>a)", 0, "named groups"),
            ("[[:alpha:]]", 1, "nested"),
            ("a{", 1, "literal {"),
            ("\\", 0, "lone"),
        ]
        for (source, position, words) in cases {
            do {
                _ = try SafePattern(source)
                Issue.record("\(source) was accepted")
            } catch {
                #expect(error.position == position, "\(source): \(error)")
                #expect(error.message.contains(words), "\(source): \(error)")
            }
        }
        #expect(throws: SafePatternError.self) { try SafePattern(String(repeating: "a", count: 1001)) }
        #expect((try? SafePattern(String(repeating: "a", count: 1000))) != nil)
    }

    /// A random pattern of the subset (and whether it can match the empty string). Groups
    /// that can match empty are never repeated: ICU gets those wrong, not the engine.
    static func randomPattern(_ random: inout SplitMix, depth: Int, atoms: [String], anchors: [String]) -> (String, Bool) {
        var text = ""
        var nullable = true
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            var atom: String
            var atomNullable = false
            var group = false
            switch Int.random(in: 0..<10, using: &random) {
            case 0 where depth < 2:
                let (a, an) = randomPattern(&random, depth: depth + 1, atoms: atoms, anchors: anchors)
                let (b, bn) = randomPattern(&random, depth: depth + 1, atoms: atoms, anchors: anchors)
                atom = (Bool.random(using: &random) ? "(?:" : "(") + a + "|" + b + ")"
                atomNullable = an || bn
                group = true
            case 1 where depth < 2:
                let (a, an) = randomPattern(&random, depth: depth + 1, atoms: atoms, anchors: anchors)
                atom = "(" + a + ")"
                atomNullable = an
                group = true
            case 2:
                text += anchors.randomElement(using: &random) ?? ""
                continue
            default:
                atom = atoms.randomElement(using: &random) ?? "a"
            }
            let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}", "*?", "+?"]
            let quantifier = group && atomNullable ? "" : quantifiers.randomElement(using: &random) ?? ""
            text += atom + quantifier
            let quantifierNullable = quantifier.hasPrefix("*") || quantifier.hasPrefix("?") || quantifier.hasPrefix("{0")
            nullable = nullable && (atomNullable || quantifierNullable)
        }
        return (text, nullable)
    }

    static let asciiAtoms = ["a", "b", "c", "A", ".", "[abc]", "[^a]", "[a-c]", "[A-Z]", "\\d", "\\w", "\\s", "\\W", "\\.", "1", " ", "-", "[-a]", "[\\d.]"]
    static let unicodeAtoms = ["a", "é", "É", ".", "[^a]", "[é-ü]", "[aé]", "\\d", "\\s", "\\D", "日", "[^é]", "\\x{65e5}", "\\xe9"]

    /// Thousands of random patterns and lines (seeded): the same answer as NSRegularExpression.
    @Test(arguments: [
        (UInt64(42), false),
        (UInt64(7), true),
    ])
    func agreesWithNSRegularExpression(seed: UInt64, unicode: Bool) throws {
        var random = SplitMix(state: seed)
        let atoms = unicode ? Self.unicodeAtoms : Self.asciiAtoms
        let anchors = unicode ? ["^", "$"] : ["^", "$", "\\b", "\\B"]  // \w and \b are ASCII here, Unicode in ICU
        let alphabet = Array(unicode ? "aéÉ日ü1 .\u{10348}" : "abcA1 .-_B")
        var checked = 0
        for _ in 0..<2500 {
            let source = Self.randomPattern(&random, depth: 0, atoms: atoms, anchors: anchors).0
            let caseInsensitive = Int.random(in: 0..<4, using: &random) == 0
            let ours = SafePatternMatcher(try SafePattern(source, caseInsensitive: caseInsensitive))
            let theirs = try NSRegularExpression(pattern: source, options: caseInsensitive ? [.caseInsensitive] : [])
            for _ in 0..<4 {
                let line = String((0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" })
                let expected = theirs.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
                #expect(ours.matches(line) == expected, "/\(source)/\(caseInsensitive ? "i" : "") on \"\(line)\"")
                checked += 1
            }
        }
        #expect(checked == 10_000)
    }

    /// The text a line must contain before the NFA runs (the prefilter behind the throughput).
    @Test func requiredLiteralsAreExtracted() throws {
        func literals(_ source: String, _ caseInsensitive: Bool = false) throws -> [[String]] {
            try SafePattern(source, caseInsensitive: caseInsensitive).program.literals.map { $0.map { String(decoding: $0, as: UTF8.self) }.sorted() }
        }
        #expect(try literals("dhclient.*DHCPNAK") == [["dhclient"], ["DHCPNAK"]])
        #expect(try literals("gpsd\\[\\d+\\]: .*(?:lost|no) fix", true) == [["lost fix", "no fix"], ["gpsd["], ["]: "]])
        #expect(try literals("(?:error|fail(?:ed|ure)?)", true) == [["error", "fail"]])
        #expect(try literals("colou?r") == [["color", "colour"]])
        #expect(try literals("Kernel panic", true) == [["ernel panic"]])  // k: the Kelvin sign folds to it
        #expect(try literals("a*|b") == [])
        #expect(try literals("[0-9]+") == [])
    }

    @Test func globsSelectCollectedFiles() throws {
        let byName = try PathGlob("*.log")
        #expect(byName.matches("/var/log/app.log"))
        #expect(!byName.matches("/var/log/app.log.1"))
        let tree = try PathGlob("/var/log/**/*.log")
        #expect(tree.matches("/var/log/nginx/error.log"))
        #expect(!tree.matches("/home/var/log/x/error.log"))
        let one = try PathGlob("/var/log/*")
        #expect(one.matches("/var/log/syslog"))
        #expect(!one.matches("/var/log/nginx/error.log"))
        let set = try PathGlob("app-[0-9].[!g]*")
        #expect(set.matches("/x/app-3.log"))
        #expect(!set.matches("/x/app-3.gz"))
        #expect(try PathGlob("a+b(1).txt").matches("/d/a+b(1).txt"))
    }

    @Test func timestampsAtTheStartOfLines() throws {
        let reference = Date(timeIntervalSince1970: 1_714_564_800)  // 2024-05-01T12:00:00Z
        func parse(_ text: String) -> Double? {
            var text = text
            return text.withUTF8 { LogTimestamp.parse($0, reference: reference) }
        }
        #expect(parse("2024-05-01T12:00:00Z app: started") == 1_714_564_800)
        #expect(parse("2024-05-01 14:00:00.250+02:00 app") == 1_714_564_800.25)
        #expect(parse("2024-05-01T12:00:00,5 app") == 1_714_564_800.5)
        #expect(parse("<34>1 2024-05-01T12:00:00.000Z host app - - msg") == 1_714_564_800)
        #expect(parse("May  1 11:59:00 host kernel: x") == 1_714_564_740)
        // December seen in early May is last December.
        #expect(parse("Dec 31 23:00:00 host x") == 1_704_063_600)
        #expect(parse("[2024-05-01 12:00:00] x") == 1_714_564_800)
        #expect(parse("no time here") == nil)
        #expect(parse("2024-13-01T00:00:00Z bad month") == nil)
    }

    @Test func lineReaderStreamsAndCutsLongLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pb-lines-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        var text = "first\r\nsecond\n\n"
        text += String(repeating: "x", count: 100) + "TAIL\n"
        text += "last"
        try Data(text.utf8).write(to: url)
        var lines: [String] = []
        let reader = LogLineReader(maxLineBytes: 50, chunkBytes: 4096)
        let summary = try reader.forEachLine(in: url) { lines.append(String(decoding: $0, as: UTF8.self)) }
        #expect(lines == ["first", "second", "", String(repeating: "x", count: 50), "last"])
        #expect(summary.lines == 5 && summary.truncated == 1 && summary.bytes == Int64(text.utf8.count))

        // Lines across chunk boundaries, and an over-long line spanning several chunks.
        var big = ""
        for index in 0..<5000 { big += "line \(index) " + String(repeating: "y", count: index % 97) + "\n" }
        big += String(repeating: "z", count: 20_000) + "\nend\n"
        try Data(big.utf8).write(to: url)
        var count = 0
        var longest = 0
        var lastLine = ""
        let small = LogLineReader(maxLineBytes: 1000, chunkBytes: 4096)
        let bigSummary = try small.forEachLine(in: url) { line in
            count += 1
            longest = max(longest, line.count)
            lastLine = String(decoding: line, as: UTF8.self)
        }
        #expect(count == 5002 && longest == 1000 && lastLine == "end" && bigSummary.truncated == 1)
    }
}
