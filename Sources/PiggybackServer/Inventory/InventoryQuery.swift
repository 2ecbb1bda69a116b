/// A filter over terminal inventories, such as
/// `software.openssl < 3.0.11 and hardware.memory_total >= 4GiB and not os.id == ubuntu`.
///
/// Why: administrators select terminals by what their inventories report (to assign a package
/// or collect a file), and the selection should be a short line they can type into the CLI or
/// the admin API rather than code. Parsing once up front also means a rule with a typo is
/// refused when it is written, with the position of the mistake, not silently matching nothing.
///
/// Grammar (keywords are case-insensitive, whitespace between tokens is free):
///
/// ```
/// expr       := term (("or" | "||") term)*
/// term       := factor (("and" | "&&") factor)*
/// factor     := ("not" | "!") factor | "(" expr ")" | comparison
/// comparison := PATH OP VALUE | PATH "exists" | PATH "missing"
/// OP         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "~"
/// PATH       := section "." key        (first dot splits; key may hold dots, "+", "-", ...)
/// VALUE      := bare word (ASCII letters, digits, ".:+~-_/") | "double-quoted" (\" and \\)
/// ```
///
/// `and` binds tighter than `or`; `not` binds tightest. Semantics are in
/// `InventoryQuery+Evaluate.swift`: `software` items compare as Debian versions, others as
/// numbers with size units when both sides are numbers, else as strings; an absent item makes
/// every comparison false, `!=` included.
public struct InventoryQuery: Sendable, CustomStringConvertible {
    /// The longest query accepted, in characters. Queries arrive over the admin API, so the
    /// parser must bound its work and memory whatever it is sent.
    public static let maximumLength = 4096

    /// The deepest nesting of `(` and `not` accepted. Parsing and evaluation recurse once per
    /// level, so this bounds the stack; no sensible rule comes close.
    public static let maximumDepth = 64

    /// The query as written, kept so rules can be shown back to administrators verbatim.
    public let text: String

    /// The parsed tree that `matches` evaluates.
    let expression: Expression

    /// Parses `text`, or throws an error naming what was expected and the character
    /// position (0-based) where it was not found.
    public init(parsing text: String) throws(InventoryQueryError) {
        var parser = try Parser(text)
        self.expression = try parser.parseQuery()
        self.text = text
    }

    /// Whether `inventory` (section name → item key → value) satisfies the query.
    public func matches(_ inventory: [String: [String: String]]) -> Bool {
        expression.evaluate(in: inventory)
    }

    /// The query as written.
    public var description: String { text }

    /// A node of the parsed query. `or`/`and` hold flat lists so that long chains such as
    /// `a or b or c ...` cost no recursion depth.
    indirect enum Expression: Sendable, Equatable {
        /// True when any operand is true (`or`, `||`).
        case any([Expression])
        /// True when every operand is true (`and`, `&&`).
        case all([Expression])
        /// Negation (`not`, `!`).
        case not(Expression)
        /// A test of one inventory item.
        case comparison(Comparison)
    }

    /// A test of one inventory item, `section.key OP value` or `section.key exists|missing`.
    struct Comparison: Sendable, Equatable {
        /// The inventory section (text before the path's first dot).
        let section: String
        /// The item key within the section (everything after the first dot).
        let key: String
        /// What is tested.
        let test: Test
    }

    /// What a comparison tests, kept apart from the path so `exists`/`missing` need no value.
    enum Test: Sendable, Equatable {
        /// The item is present (any value, even empty).
        case exists
        /// The item is absent (the section or the key).
        case missing
        /// The item is present and compares to the operand as the operator says.
        case compare(Operator, Operand)
    }

    /// The comparison operators, spelled as in queries.
    enum Operator: String, Sendable, Equatable {
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        /// Case-insensitive substring match; never version or number semantics.
        case contains = "~"
    }

    /// A query value with its version and number readings worked out once at parse time,
    /// so evaluating a query over many inventories only parses the inventories' side.
    struct Operand: Sendable, Equatable {
        /// The value as written (quotes and escapes removed).
        let text: String
        /// The value lowercased, for `~`.
        let folded: String
        /// The value as a Debian version, when it is one (used for `software` items).
        let version: DebianVersion?
        /// The value as a number with its size unit applied, when it is one.
        let number: Double?

        /// Works out every reading of `text`.
        init(_ text: String) {
            self.text = text
            self.folded = text.lowercased()
            self.version = DebianVersion(text)
            self.number = InventoryQuery.number(text)
        }
    }
}

/// Why a query was refused: what was expected and the character position (0-based) where it
/// was not found, so the CLI and admin API can point at the mistake.
public struct InventoryQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A complete sentence, position included, e.g.
    /// `expected an operator after software.curl at 14, found '='`.
    public var message: String
    /// The 0-based character offset in the query the message refers to.
    public var position: Int

    /// Makes an error; `message` should already name `position`.
    public init(message: String, position: Int) {
        self.message = message
        self.position = position
    }

    /// The message, which already carries the position.
    public var description: String { message }
}
