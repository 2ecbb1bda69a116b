@testable import PiggybackServer
import Testing

/// The inventory query language: syntax, precedence, comparison semantics, errors and bounds.
@Suite struct InventoryQueryTests {
    /// A Debian 12 terminal with 24 GiB of memory, as an agent would report it.
    static let inventory: [String: [String: String]] = [
        "os": ["id": "debian", "version": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)"],
        "hardware": ["memory_total": "25769803776", "cpu_cores": "2", "disk": "512 GiB"],
        "software": [
            "openssl": "3.0.11-1~deb12u2", "curl": "7.88.1-10+deb12u5",
            "python3.11": "3.11.2-6", "libstdc++6": "12.2.0-14",
        ],
        "x": ["quote": "say \"hi\" \\ bye", "empty": ""],
    ]

    /// An older, smaller terminal, so that the examples have both outcomes.
    static let oldTerminal: [String: [String: String]] = [
        "os": ["id": "Ubuntu", "version": "9"],
        "hardware": ["memory_total": "3221225472", "cpu_cores": "10"],
        "software": ["openssl": "3.0.9-1"],
    ]

    /// Parses `text` and evaluates it, failing the test if it does not parse.
    func matches(_ text: String, _ inventory: [String: [String: String]] = inventory) throws -> Bool {
        try InventoryQuery(parsing: text).matches(inventory)
    }

    /// The parse error for `text`, or nil if it parsed.
    func error(_ text: String) -> InventoryQueryError? {
        do {
            _ = try InventoryQuery(parsing: text)
            return nil
        } catch {
            return error
        }
    }

    /// (query, matches `inventory`, matches `oldTerminal`).
    @Test(arguments: [
        // The brief's examples. openssl 3.0.11-1~deb12u2 is newer than 3.0.11 for dpkg;
        // 3.0.9-1 is older although it is larger as a string.
        ("software.openssl < 3.0.11", false, true),
        ("hardware.memory_total < 4GiB", false, true),
        ("os.id == debian", true, false),
        // Debian versions in the software section.
        ("software.openssl < 3.0.11-1", true, true),
        ("software.openssl >= 3.0.11-1~deb12u1", true, false),
        ("software.openssl == 0:3.0.11-1~deb12u2", true, false),
        ("software.curl > 7.88.1-10", true, false),
        ("software.python3.11 >= 3.11", true, false),
        ("software.libstdc++6 < 13", true, false),
        ("software.curl~deb12", true, false),
        // Numbers with units elsewhere.
        ("hardware.memory_total == 24GiB", true, false),
        ("hardware.memory_total > 24GB", true, false),
        ("hardware.memory_total <= 25769803776", true, true),
        ("hardware.memory_total >= 3072MiB", true, true),
        ("hardware.memory_total > 3gb", true, true),
        ("hardware.memory_total > \"4 GiB\"", true, false),
        ("hardware.disk >= 0.5TiB", true, false),
        ("hardware.cpu_cores > 9", false, true),
        ("hardware.cpu_cores < 1.5k", true, true),
        ("os.version == 12.0", true, false),
        ("os.version < 10", false, true),
        // Strings: exact equality, lexicographic order, case-insensitive ~.
        ("os.id == Debian", false, false),
        ("os.id < ubuntu", true, true),
        ("os.id > arch", true, false),
        ("os.id ~ DEB", true, false),
        ("os.id ~ ubu", false, true),
        ("os.pretty_name ~ \"gnu/linux 12\"", true, false),
        ("os.pretty_name == \"Debian GNU/Linux 12 (bookworm)\"", true, false),
        ("os.id == \"debian or os.id == ubuntu\"", false, false),
        (#"x.quote == "say \"hi\" \\ bye""#, true, false),
        ("x.empty == \"\"", true, false),
        ("x.empty ~ \"\"", true, false),
    ])
    func comparisons(_ row: (String, Bool, Bool)) throws {
        #expect(try matches(row.0) == row.1, "\(row.0) on the Debian 12 terminal")
        #expect(try matches(row.0, Self.oldTerminal) == row.2, "\(row.0) on the old terminal")
    }

    /// `not` binds tighter than `and`, `and` tighter than `or`; parentheses override; keywords
    /// and their symbols are interchangeable and case-insensitive.
    @Test(arguments: [
        ("os.id == ubuntu and os.id == ubuntu or os.id == debian", true),
        ("os.id == debian or os.id == ubuntu and os.version == 99", true),
        ("(os.id == debian or os.id == ubuntu) and os.version == 99", false),
        ("not os.id == debian or hardware.cpu_cores == 2", true),
        ("not (os.id == debian or hardware.cpu_cores == 2)", false),
        ("not not os.id == debian", true),
        ("!os.id == ubuntu && hardware.cpu_cores == 2", true),
        ("os.id == ubuntu || !software.curl missing", true),
        ("NOT os.id == debian", false),
        ("os.id == debian AND os.version == 12 Or os.id == x", true),
        ("os.id==debian&&(os.version<13||os.version>20)", true),
        ("((os.id == debian))", true),
    ])
    func precedence(_ row: (String, Bool)) throws {
        #expect(try matches(row.0) == row.1, "\(row.0)")
    }

    /// `exists`/`missing` test presence; any other comparison on an absent item is false,
    /// `!=` included, so absence must be asked for with `missing` or `not`.
    @Test(arguments: [
        ("software.curl exists", true),
        ("software.curl MISSING", false),
        ("software.wget missing", true),
        ("software.wget exists", false),
        ("nosuch.key missing", true),
        ("x.empty exists", true),
        ("software.wget == 1", false),
        ("software.wget != 1", false),
        ("software.wget < 1", false),
        ("software.wget >= 0", false),
        ("software.wget ~ w", false),
        ("nosuch.key != x", false),
        ("not software.wget == 1", true),
        ("software.wget missing or software.wget < 2", true),
    ])
    func presence(_ row: (String, Bool)) throws {
        #expect(try matches(row.0) == row.1, "\(row.0)")
    }

    /// Every kind of syntax error names what was expected and where.
    @Test(arguments: [
        ("", "the query is empty", 0),
        ("   ", "the query is empty", 0),
        ("software.curl 3", "expected an operator after software.curl at 14, found '3'", 14),
        ("os.id =~ deb", "expected an operator after os.id at 6, found '='", 6),
        ("memory_total < 4GiB", "expected a path of the form section.key at 0, found 'memory_total'", 0),
        ("os. exists", "expected a path of the form section.key at 0, found 'os.'", 0),
        ("os.id ==", "expected a value after os.id == at 8, found the end of the query", 8),
        ("os.id == )", "expected a value after os.id == at 9, found ')'", 9),
        ("os.id == \"deb", "expected a closing '\"' for the string at 9, found the end of the query", 9),
        (#"os.id == "a\nb""#, #"unknown escape '\n' at 11; only \" and \\ are allowed in a string"#, 11),
        ("(os.id == debian", "expected 'and', 'or' or ')' at 16 to close the '(' at 0, found the end of the query", 16),
        ("os.id == debian)", "unexpected ')' at 15 without a matching '('", 15),
        ("os.id == debian ubuntu", "expected 'and', 'or' or the end of the query at 16, found 'ubuntu'", 16),
        ("os.id == debian and", "expected a comparison, 'not' or '(' at 19, found the end of the query", 19),
        ("os.id exists and or os.id exists", "expected a comparison, 'not' or '(' at 17, found 'or'", 17),
        ("()", "expected a comparison, 'not' or '(' at 1, found ')'", 1),
    ])
    func syntaxErrors(_ row: (String, String, Int)) throws {
        let failure = try #require(error(row.0), "\(row.0) should not parse")
        #expect(failure.message == row.1)
        #expect(failure.position == row.2)
        #expect(failure.description == row.1)
    }

    /// Queries up to 4096 characters parse; longer ones are refused before parsing.
    @Test func boundsLength() throws {
        let longest = "os.id == \"" + String(repeating: "x", count: InventoryQuery.maximumLength - 11) + "\""
        #expect(longest.count == 4096)
        #expect(try matches(longest) == false)
        #expect(error(longest + " ") == InventoryQueryError(message: "the query is longer than 4096 characters", position: 4096))
        #expect(error(String(repeating: "(", count: 1_000_000))?.position == 4096)
    }

    /// Nesting up to 64 levels of `(` or `not` parses; the 65th is refused where it starts,
    /// without recursing further.
    @Test func boundsDepth() throws {
        func parenthesized(_ depth: Int) -> String {
            String(repeating: "(", count: depth) + "os.id == debian" + String(repeating: ")", count: depth)
        }
        #expect(try matches(parenthesized(64)))
        #expect(error(parenthesized(65)) == InventoryQueryError(message: "the query nests deeper than 64 levels at 64", position: 64))
        #expect(try matches(String(repeating: "not ", count: 64) + "os.id == debian"))
        #expect(error(String(repeating: "not ", count: 65) + "os.id == debian")?.position == 256)
        #expect(error(String(repeating: "!", count: 65) + "os.id == debian")?.position == 64)
        #expect(error(String(repeating: "(", count: 4000))?.message == "the query nests deeper than 64 levels at 64")
    }

    /// Long flat chains cost no depth: 200 alternatives parse and evaluate.
    @Test func longChainsAreFlat() throws {
        let chain = (0..<200).map { "os.id == d\($0)" }.joined(separator: " or ") + " or os.id == debian"
        #expect(chain.count <= InventoryQuery.maximumLength)
        #expect(try matches(chain))
    }

    /// The query keeps its text for display.
    @Test func keepsText() throws {
        #expect(try InventoryQuery(parsing: "os.id == debian").description == "os.id == debian")
    }
}
