extension InventoryQuery {
    /// A recursive-descent parser for the grammar in `InventoryQuery`.
    ///
    /// Why it lexes on demand instead of tokenizing first: the same characters mean different
    /// things by position. `~` is an operator after a path but part of a value such as
    /// `1.0~rc1`, and `!` is `not` before a comparison but half of `!=` after a path. Reading
    /// each token with the character set its position allows keeps both unambiguous, and
    /// `software.curl~deb12` still splits into path, operator and value.
    ///
    /// Bounds: the text is refused beyond `maximumLength` characters before anything else,
    /// and `(`/`not` nesting beyond `maximumDepth`, so recursion depth is fixed.
    struct Parser {
        /// The query as characters, so positions count what the user sees.
        private let characters: [Character]
        /// The position of the next unread character.
        private var index = 0
        /// How many `(` and `not` enclose the factor being parsed.
        private var depth = 0

        /// Prepares to parse `text`, refusing it when it is too long. Counts with an early exit
        /// so a huge input is not copied before it is refused.
        init(_ text: String) throws(InventoryQueryError) {
            var count = 0
            for _ in text {
                count += 1
                if count > InventoryQuery.maximumLength {
                    throw InventoryQueryError(
                        message: "the query is longer than \(InventoryQuery.maximumLength) characters",
                        position: InventoryQuery.maximumLength)
                }
            }
            characters = Array(text)
        }

        /// Parses the whole text as one expression; anything left over is an error.
        mutating func parseQuery() throws(InventoryQueryError) -> Expression {
            skipSpace()
            if index == characters.count { throw fail("the query is empty", at: 0) }
            let expression = try parseOr()
            skipSpace()
            if index < characters.count {
                if characters[index] == ")" { throw fail("unexpected ')' at \(index) without a matching '('", at: index) }
                throw fail("expected 'and', 'or' or the end of the query at \(index), found \(found())", at: index)
            }
            return expression
        }

        /// `expr := term (("or" | "||") term)*`
        private mutating func parseOr() throws(InventoryQueryError) -> Expression {
            var terms = [try parseAnd()]
            while consumeConnective(word: "or", symbol: "||") { terms.append(try parseAnd()) }
            return terms.count == 1 ? terms[0] : .any(terms)
        }

        /// `term := factor (("and" | "&&") factor)*`
        private mutating func parseAnd() throws(InventoryQueryError) -> Expression {
            var factors = [try parseFactor()]
            while consumeConnective(word: "and", symbol: "&&") { factors.append(try parseFactor()) }
            return factors.count == 1 ? factors[0] : .all(factors)
        }

        /// `factor := ("not" | "!") factor | "(" expr ")" | comparison`
        private mutating func parseFactor() throws(InventoryQueryError) -> Expression {
            skipSpace()
            let start = index
            guard index < characters.count else {
                throw fail("expected a comparison, 'not' or '(' at \(index), found \(found())", at: index)
            }
            if characters[index] == "(" {
                try enter(at: start)
                index += 1
                let inner = try parseOr()
                skipSpace()
                guard index < characters.count, characters[index] == ")" else {
                    throw fail("expected 'and', 'or' or ')' at \(index) to close the '(' at \(start), found \(found())", at: index)
                }
                index += 1
                depth -= 1
                return inner
            }
            if characters[index] == "!", peek(1) != "=" {
                try enter(at: start)
                index += 1
                let negated = try parseFactor()
                depth -= 1
                return .not(negated)
            }
            let word = read(while: Self.isPathCharacter)
            switch word.lowercased() {
            case "not":
                try enter(at: start)
                let negated = try parseFactor()
                depth -= 1
                return .not(negated)
            case "", "and", "or", "exists", "missing":
                index = start
                throw fail("expected a comparison, 'not' or '(' at \(start), found \(found())", at: start)
            default:
                return .comparison(try parseComparison(path: word, at: start))
            }
        }

        /// `comparison := PATH OP VALUE | PATH "exists" | PATH "missing"`, the path already read.
        private mutating func parseComparison(path: String, at start: Int) throws(InventoryQueryError) -> Comparison {
            guard let dot = path.firstIndex(of: "."), dot != path.startIndex, path.index(after: dot) != path.endIndex else {
                index = start
                throw fail("expected a path of the form section.key at \(start), found \(found())", at: start)
            }
            let section = String(path[..<dot])
            let key = String(path[path.index(after: dot)...])
            skipSpace()
            let operatorStart = index
            if let op = readOperator() {
                skipSpace()
                let valueStart = index
                guard let value = try readValue() else {
                    throw fail("expected a value after \(path) \(op.rawValue) at \(valueStart), found \(found())", at: valueStart)
                }
                return Comparison(section: section, key: key, test: .compare(op, Operand(value)))
            }
            switch read(while: Self.isPathCharacter).lowercased() {
            case "exists": return Comparison(section: section, key: key, test: .exists)
            case "missing": return Comparison(section: section, key: key, test: .missing)
            default:
                index = operatorStart
                throw fail("expected an operator after \(path) at \(operatorStart), found \(found())", at: operatorStart)
            }
        }

        /// Reads one of `== != <= >= < > ~`, longest first, or nothing.
        private mutating func readOperator() -> Operator? {
            if let second = peek(1), let op = Operator(rawValue: String([characters[index], second])) {
                index += 2
                return op
            }
            if let first = peek(0), let op = Operator(rawValue: String(first)) {
                index += 1
                return op
            }
            return nil
        }

        /// Reads a bare or double-quoted value; nil when neither starts here.
        private mutating func readValue() throws(InventoryQueryError) -> String? {
            guard peek(0) == "\"" else {
                let word = read(while: Self.isValueCharacter)
                return word.isEmpty ? nil : word
            }
            let start = index
            index += 1
            var value = ""
            while let character = peek(0) {
                index += 1
                switch character {
                case "\"":
                    return value
                case "\\":
                    guard let escaped = peek(0) else { break }
                    guard escaped == "\"" || escaped == "\\" else {
                        throw fail("unknown escape '\\\(escaped)' at \(index - 1); only \\\" and \\\\ are allowed in a string", at: index - 1)
                    }
                    value.append(escaped)
                    index += 1
                default:
                    value.append(character)
                }
            }
            throw fail("expected a closing '\"' for the string at \(start), found the end of the query", at: start)
        }

        /// Consumes `word` (as a whole word, case-insensitive) or `symbol` after optional
        /// whitespace; leaves the position unchanged when neither is there.
        private mutating func consumeConnective(word: String, symbol: String) -> Bool {
            let start = index
            skipSpace()
            if let first = peek(0), let second = peek(1), String([first, second]) == symbol {
                index += 2
                return true
            }
            if read(while: Self.isPathCharacter).lowercased() == word { return true }
            index = start
            return false
        }

        /// Counts one more level of `(` or `not` (which starts at `position`), refusing the
        /// query past `maximumDepth`.
        private mutating func enter(at position: Int) throws(InventoryQueryError) {
            depth += 1
            if depth > InventoryQuery.maximumDepth {
                throw fail("the query nests deeper than \(InventoryQuery.maximumDepth) levels at \(position)", at: position)
            }
        }

        /// Reads the longest run of characters satisfying `allowed`.
        private mutating func read(while allowed: (Character) -> Bool) -> String {
            let start = index
            while index < characters.count, allowed(characters[index]) { index += 1 }
            return String(characters[start..<index])
        }

        /// Skips whitespace between tokens.
        private mutating func skipSpace() {
            while index < characters.count, characters[index].isWhitespace { index += 1 }
        }

        /// The character `offset` places ahead, or nil past the end.
        private func peek(_ offset: Int) -> Character? {
            index + offset < characters.count ? characters[index + offset] : nil
        }

        /// What stands at the current position, for "found ..." in messages: the word there
        /// (shortened past 20 characters), else the single character, else the end.
        private func found() -> String {
            guard index < characters.count else { return "the end of the query" }
            var end = index
            while end < characters.count, Self.isValueCharacter(characters[end]) { end += 1 }
            if end == index { return "'\(characters[index])'" }
            let word = String(characters[index..<min(end, index + 20)])
            return "'\(word)\(end > index + 20 ? "…" : "")'"
        }

        /// An error at `position`, which the message also names so it reads on its own.
        private func fail(_ message: String, at position: Int) -> InventoryQueryError {
            InventoryQueryError(message: message, position: position)
        }

        /// Characters of a path: ASCII letters, digits and `.:+-_/`. `~` is left out so that
        /// it can follow a path as the operator without spaces.
        private static func isPathCharacter(_ c: Character) -> Bool {
            c != "~" && isValueCharacter(c)
        }

        /// Characters of a bare value: ASCII letters, digits and `.:+~-_/`.
        private static func isValueCharacter(_ c: Character) -> Bool {
            guard c.isASCII else { return false }
            return c.isLetter || c.isNumber || ".:+~-_/".contains(c)
        }
    }
}
