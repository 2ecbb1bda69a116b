/// The syntax tree of a ``SafePattern``.
indirect enum PatternNode: Sendable {
    case empty
    case char(UInt32)
    case any
    case set(CharClass)
    case lineStart
    case lineEnd
    case wordBoundary(Bool)
    case concat([PatternNode])
    case alternate([PatternNode])
    /// `node{min,max}`; `max` nil means unbounded. `position` is where the quantifier is.
    case repeated(PatternNode, min: Int, max: Int?, position: Int)
}

/// Recursive-descent parser for the ``SafePattern`` subset. Everything outside the subset
/// is an error naming the construct, its position and what to write instead.
struct PatternParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var depth = 0

    /// Deepest group nesting accepted.
    static let maxDepth = 100

    init(scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    mutating func parse() throws(SafePatternError) -> PatternNode {
        let tree = try alternation()
        if index < scalars.count {
            // Only a `)` stops the top-level alternation early.
            throw SafePatternError("unmatched ); write \\) for a literal )", position: index)
        }
        return tree
    }

    var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < scalars.count ? scalars[index + offset] : nil
    }

    /// The character at `offset` from here, for messages.
    func text(_ offset: Int) -> String {
        peek(offset).map { String(Character($0)) } ?? ""
    }

    mutating func alternation() throws(SafePatternError) -> PatternNode {
        var branches = [try concatenation()]
        while peek == "|" {
            index += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    mutating func concatenation() throws(SafePatternError) -> PatternNode {
        var items: [PatternNode] = []
        while let c = peek, c != "|", c != ")" {
            let start = index
            let item = try atom()
            items.append(try quantified(item, atomStart: start))
        }
        switch items.count {
        case 0: return .empty
        case 1: return items[0]
        default: return .concat(items)
        }
    }

    mutating func atom() throws(SafePatternError) -> PatternNode {
        let start = index
        let c = scalars[index]
        index += 1
        switch c {
        case "(": return try group(start: start)
        case "[": return .set(try characterClass(start: start))
        case ".": return .any
        case "^": return .lineStart
        case "$": return .lineEnd
        case "\\": return try escape(start: start)
        case "*", "+", "?":
            throw SafePatternError("nothing to repeat before \(c); write \\\(c) for a literal \(c)", position: start)
        case "{":
            index = start
            if (try? interval()) != nil {
                throw SafePatternError("nothing to repeat before {", position: start)
            }
            throw SafePatternError("write \\{ for a literal {, or a count {m}, {m,} or {m,n} after what it repeats", position: start)
        default: return .char(c.value)
        }
    }

    mutating func group(start: Int) throws(SafePatternError) -> PatternNode {
        if peek == "?" {
            switch peek(1) {
            case ":": index += 2
            case "=", "!":
                throw SafePatternError("lookahead (?\(text(1)) … ) is not supported", position: start)
            case "<" where peek(2) == "=" || peek(2) == "!":
                throw SafePatternError("lookbehind (?<\(text(2)) … ) is not supported", position: start)
            case ">":
                throw SafePatternError("atomic groups (?> … ) are not supported; a plain group (?: … ) matches the same lines here", position: start)
            case "<", "P", "'":
                throw SafePatternError("named groups are not supported (nothing is captured); use (?: … )", position: start)
            case "#":
                throw SafePatternError("comments (?# … ) are not supported", position: start)
            default:
                throw SafePatternError("inline options (?…) are not supported; use the rule's case-insensitive option (--ignore-case)", position: start)
            }
        }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw SafePatternError("groups nested more than \(Self.maxDepth) deep", position: start)
        }
        let inner = try alternation()
        guard peek == ")" else {
            throw SafePatternError("missing ) for the ( at position \(start + 1)", position: start)
        }
        index += 1
        return inner
    }

    /// Applies `*`, `+`, `?` or `{…}` (and a lazy `?`) after an atom; refuses possessive
    /// quantifiers and a quantifier directly after another.
    mutating func quantified(_ node: PatternNode, atomStart: Int) throws(SafePatternError) -> PatternNode {
        guard let c = peek, c == "*" || c == "+" || c == "?" || c == "{" else { return node }
        let position = index
        let bounds: (min: Int, max: Int?)
        switch c {
        case "*": index += 1; bounds = (0, nil)
        case "+": index += 1; bounds = (1, nil)
        case "?": index += 1; bounds = (0, 1)
        default:
            guard let parsed = try interval() else {
                throw SafePatternError("write \\{ for a literal {, or a count {m}, {m,} or {m,n}", position: position)
            }
            bounds = parsed
        }
        switch node {
        case .lineStart, .lineEnd, .wordBoundary:
            // A bare anchor cannot be repeated; a group holding one, `(^)?`, can.
            if scalars[atomStart] != "(" {
                throw SafePatternError("nothing to repeat: an anchor or \\b cannot be repeated", position: position)
            }
        default: break
        }
        if peek == "+" {
            throw SafePatternError("possessive quantifiers (\(c)+) are not supported; drop the +", position: index)
        }
        if peek == "?" { index += 1 }  // lazy: the same lines match
        if let next = peek, next == "*" || next == "+" || next == "?" || (next == "{" && (try? lookaheadInterval()) == true) {
            throw SafePatternError("a quantifier cannot follow another; wrap the first in (?: … ) to repeat it", position: index)
        }
        return .repeated(node, min: bounds.min, max: bounds.max, position: position)
    }

    /// Whether a valid `{…}` count starts here (without consuming it).
    func lookaheadInterval() throws(SafePatternError) -> Bool {
        var copy = self
        return try copy.interval() != nil
    }

    /// Parses `{m}`, `{m,}` or `{m,n}` at `{`; nil (nothing consumed) when it is not one.
    mutating func interval() throws(SafePatternError) -> (min: Int, max: Int?)? {
        let start = index
        guard peek == "{" else { return nil }
        index += 1
        guard let low = number() else { index = start; return nil }
        var high: Int? = low
        if peek == "," {
            index += 1
            high = number()
            if high == nil, peek != "}" { index = start; return nil }
        }
        guard peek == "}" else { index = start; return nil }
        index += 1
        let limit = SafePattern.maxRepeat
        guard low <= limit, (high ?? 0) <= limit else {
            throw SafePatternError("counts in {m,n} are limited to \(limit); use + or * for more", position: start)
        }
        if let high, high < low {
            throw SafePatternError("{\(low),\(high)}: the maximum is below the minimum", position: start)
        }
        return (low, high)
    }

    /// Decimal digits (at most 6); nil when there are none.
    mutating func number() -> Int? {
        var value = 0
        var digits = 0
        while let c = peek, c.value >= 48, c.value <= 57, digits < 6 {
            value = value * 10 + Int(c.value - 48)
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }
}
