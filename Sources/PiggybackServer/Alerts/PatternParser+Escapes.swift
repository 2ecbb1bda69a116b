/// Escapes and character classes of the ``SafePattern`` subset.
extension PatternParser {
    /// What an escape inside `[…]` stands for.
    enum ClassItem {
        case char(UInt32)
        case predefined(Character)
    }

    /// After `\` outside a class.
    mutating func escape(start: Int) throws(SafePatternError) -> PatternNode {
        guard let e = peek else {
            throw SafePatternError("the pattern ends with a lone \\; write \\\\ for a backslash", position: start)
        }
        switch e {
        case "d", "D", "w", "W", "s", "S":
            index += 1
            return .set(CharClass.predefined(Character(e)) ?? CharClass())
        case "b": index += 1; return .wordBoundary(true)
        case "B": index += 1; return .wordBoundary(false)
        default: return .char(try character(escape: e, start: start))
        }
    }

    /// After `\` inside a class.
    mutating func classEscape(start: Int) throws(SafePatternError) -> ClassItem {
        guard let e = peek else {
            throw SafePatternError("the pattern ends with a lone \\; write \\\\ for a backslash", position: start)
        }
        switch e {
        case "d", "D", "w", "W", "s", "S":
            index += 1
            return .predefined(Character(e))
        case "b":
            throw SafePatternError("\\b inside a class is not supported; write \\x08 for a backspace", position: start)
        default: return .char(try character(escape: e, start: start))
        }
    }

    /// Escapes that stand for one character: `\t \n \r \f \v \xHH \x{H…}` and escaped
    /// punctuation; every other letter or digit is refused with the reason.
    mutating func character(escape e: Unicode.Scalar, start: Int) throws(SafePatternError) -> UInt32 {
        index += 1
        switch e {
        case "t": return 9
        case "n": return 10
        case "v": return 11
        case "f": return 12
        case "r": return 13
        case "x": return try hexEscape(start: start)
        case "1"..."9", "k", "g":
            throw SafePatternError("backreferences (\\\(Character(e))) are not supported", position: start)
        case "0":
            throw SafePatternError("octal escapes are not supported; write \\xHH", position: start)
        case "A", "z", "Z", "G":
            throw SafePatternError("\\\(Character(e)) is not supported; use ^ for the line start and $ for its end", position: start)
        case "p", "P":
            throw SafePatternError("Unicode properties (\\\(Character(e)){…}) are not supported; use a class such as [a-zA-Z]", position: start)
        case "Q", "E":
            throw SafePatternError("quoting with \\Q … \\E is not supported; escape each special character with \\", position: start)
        default:
            if e.isASCII, e.properties.isAlphabetic || (e.value >= 48 && e.value <= 57) {
                throw SafePatternError("unsupported escape \\\(Character(e)); see the rule syntax (\\d \\w \\s \\b \\t \\n \\r \\xHH)", position: start)
            }
            return e.value
        }
    }

    /// `\xHH` (two hex digits) or `\x{H…}` (one to six), after the `x`.
    mutating func hexEscape(start: Int) throws(SafePatternError) -> UInt32 {
        func hex(_ c: Unicode.Scalar?) -> UInt32? {
            guard let c, c.isASCII, let digit = Character(c).hexDigitValue else { return nil }
            return UInt32(digit)
        }
        if peek == "{" {
            index += 1
            var value: UInt32 = 0
            var digits = 0
            while let digit = hex(peek), digits < 6 {
                value = value * 16 + digit
                digits += 1
                index += 1
            }
            guard digits > 0, peek == "}", Unicode.Scalar(value) != nil else {
                throw SafePatternError("\\x{…} needs 1 to 6 hex digits naming a Unicode character", position: start)
            }
            index += 1
            return value
        }
        guard let high = hex(peek), let low = hex(peek(1)) else {
            throw SafePatternError("\\x needs two hex digits (\\x41) or braces (\\x{263A})", position: start)
        }
        index += 2
        return high * 16 + low
    }

    /// After `[`: single characters, ranges `a-z` and `\d \w \s \D \W \S`, optionally
    /// negated with `^`. Nested classes, POSIX names and `&&` are refused.
    mutating func characterClass(start: Int) throws(SafePatternError) -> CharClass {
        var result = CharClass()
        if peek == "^" {
            result.negated = true
            index += 1
        }
        if peek == ":", isPOSIXName() {
            throw SafePatternError("POSIX classes [:name:] are not supported; write the characters, e.g. [a-zA-Z]", position: start)
        }
        var first = true
        while true {
            guard let c = peek else {
                throw SafePatternError("missing ] for the [ at position \(start + 1)", position: start)
            }
            if c == "]" {
                guard !first else {
                    throw SafePatternError("empty class []; write \\] for a literal ]", position: start)
                }
                index += 1
                return result
            }
            first = false
            let itemStart = index
            if c == "[" {
                throw SafePatternError("nested classes are not supported; write \\[ for a literal [", position: itemStart)
            }
            if c == "&", peek(1) == "&" {
                throw SafePatternError("class intersection && is not supported", position: itemStart)
            }
            guard let low = try classCharacter(predefinedInto: &result) else { continue }
            guard peek == "-", let after = peek(1), after != "]" else {
                result.add(low...low)
                continue
            }
            index += 1
            let highStart = index
            if after == "[" {
                throw SafePatternError("nested classes are not supported; write \\[ for a literal [", position: highStart)
            }
            guard let high = try classCharacter(predefinedInto: &result) else {
                throw SafePatternError("a range cannot end at \\d, \\w or \\s", position: highStart)
            }
            guard low <= high else {
                throw SafePatternError("range out of order: the first character must not come after the second", position: itemStart)
            }
            result.add(low...high)
            if peek == "-", let next = peek(1), next != "]" {
                throw SafePatternError("write \\- for a literal - after a range", position: index)
            }
        }
    }

    /// One class member: a character (returned) or a predefined class (added, nil returned).
    mutating func classCharacter(predefinedInto result: inout CharClass) throws(SafePatternError) -> UInt32? {
        let start = index
        let c = scalars[index]
        index += 1
        guard c == "\\" else { return c.value }
        switch try classEscape(start: start) {
        case .char(let value):
            return value
        case .predefined(let letter):
            if peek == "-", let next = peek(1), next != "]" {
                throw SafePatternError("a range cannot start at \\\(letter); write \\- for a literal -", position: start)
            }
            result.add(predefined: letter)
            return nil
        }
    }

    /// Whether `:letters:]` follows (a POSIX class name).
    func isPOSIXName() -> Bool {
        var offset = 1
        while let c = peek(offset), c.isASCII, c.properties.isAlphabetic { offset += 1 }
        return offset > 1 && peek(offset) == ":" && peek(offset + 1) == "]"
    }
}
