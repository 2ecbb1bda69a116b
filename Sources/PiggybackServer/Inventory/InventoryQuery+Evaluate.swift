extension InventoryQuery.Expression {
    /// Evaluates the node against `inventory`, short-circuiting `any`/`all`. Recursion depth is
    /// bounded because the parser refuses nesting beyond `InventoryQuery.maximumDepth`.
    func evaluate(in inventory: [String: [String: String]]) -> Bool {
        switch self {
        case .any(let operands): operands.contains { $0.evaluate(in: inventory) }
        case .all(let operands): operands.allSatisfy { $0.evaluate(in: inventory) }
        case .not(let operand): !operand.evaluate(in: inventory)
        case .comparison(let comparison): comparison.evaluate(in: inventory)
        }
    }
}

extension InventoryQuery.Comparison {
    /// Tests one item.
    ///
    /// An absent item (no such section, or no such key in it) makes every `OP VALUE`
    /// comparison false, `!=` and `~` included: "version != 3" should not select terminals
    /// that do not report the version at all. Absence is asked for explicitly with `missing`
    /// or `not`, e.g. `software.curl missing or software.curl < 8`.
    func evaluate(in inventory: [String: [String: String]]) -> Bool {
        let value = inventory[section]?[key]
        switch test {
        case .exists:
            return value != nil
        case .missing:
            return value == nil
        case .compare(let op, let operand):
            guard let value else { return false }
            if op == .contains {
                // Stated explicitly: Foundation's `contains("")` is false, the standard library's true.
                return operand.folded.isEmpty || value.lowercased().contains(operand.folded)
            }
            let order = Self.order(value, operand, asVersions: section == "software")
            switch op {
            case .equal: return order == 0
            case .notEqual: return order != 0
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .contains: return false // handled above
            }
        }
    }

    /// Three-way order of an inventory value against a query operand, in the first reading
    /// both sides share: Debian versions (only for `software` items, whose values are package
    /// versions), then numbers with size units, then strings (Swift `String` order, i.e.
    /// Unicode code points after canonical normalization; `==` is then exact text equality up
    /// to canonical equivalence).
    ///
    /// Why a shared reading and not the operand's alone: comparing `debian` as a number would
    /// be meaningless, so a side that does not parse sends both to the next reading.
    static func order(_ value: String, _ operand: InventoryQuery.Operand, asVersions: Bool) -> Int {
        if asVersions, let right = operand.version, let left = DebianVersion(value) {
            return DebianVersion.compare(left, right)
        }
        if let right = operand.number, let left = InventoryQuery.number(value) {
            return left < right ? -1 : (left > right ? 1 : 0)
        }
        return value < operand.text ? -1 : (value > operand.text ? 1 : 0)
    }
}

extension InventoryQuery {
    /// Reads `text` as a number with an optional size unit, or nil.
    ///
    /// Why units: inventories report sizes in bytes (`memory_total = 25769803776`) while people
    /// write `4GiB`. Accepted: optional surrounding whitespace, an optional sign, digits with
    /// an optional fraction (`1.5`), optional whitespace, then an optional unit, matched
    /// case-insensitively: `k m g t` alone or with `b` are decimal (1000^n: `10k`, `1.5GB`),
    /// with `i` (and optional `b`) binary (1024^n: `4GiB`, `512Mi`), and a lone `b` means
    /// bytes. No exponents, hex or thousands separators; those compare as strings. Values are
    /// `Double`, exact for integers up to 2^53 (8 PiB in bytes).
    static func number(_ text: String) -> Double? {
        var bytes = Array(text.utf8)[...]
        while bytes.first == 0x20 || bytes.first == 0x09 { bytes.removeFirst() }
        while bytes.last == 0x20 || bytes.last == 0x09 { bytes.removeLast() }

        var numeral = ""
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            numeral.append(Character(Unicode.Scalar(sign)))
            bytes.removeFirst()
        }
        guard let integer = takeDigits(&bytes) else { return nil }
        numeral += integer
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            guard let fraction = takeDigits(&bytes) else { return nil }
            numeral += "." + fraction
        }
        while bytes.first == 0x20 { bytes.removeFirst() }

        var unit = String(decoding: bytes, as: UTF8.self).lowercased()
        if unit.hasSuffix("b") { unit.removeLast() }
        let binary = unit.hasSuffix("i") && unit.count == 2
        if binary { unit.removeLast() }
        let exponent: Int
        switch unit {
        case "": exponent = 0
        case "k": exponent = 1
        case "m": exponent = 2
        case "g": exponent = 3
        case "t": exponent = 4
        default: return nil
        }
        guard let mantissa = Double(numeral) else { return nil }
        var result = mantissa
        for _ in 0..<exponent { result *= binary ? 1024 : 1000 }
        return result.isFinite ? result : nil
    }

    /// Removes and returns the leading run of ASCII digits, or nil when there is none.
    private static func takeDigits(_ bytes: inout ArraySlice<UInt8>) -> String? {
        let digits = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty else { return nil }
        bytes.removeFirst(digits.count)
        return String(decoding: digits, as: UTF8.self)
    }
}
