/// Reads the packed layout written by ``ColumnWriter``, checking every count and
/// reference against what was actually read, so that hostile input only ever throws.
struct ColumnReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset >= bytes.count }

    mutating func section() throws(TelexError) -> WireInventorySection {
        var section = WireInventorySection()
        section.name = try string()
        section.failed = try string()
        let rows = try number()
        let removed = try number()
        section.removed = try (0..<removed).map { _ throws(TelexError) in try string() }

        var keys: [[UInt8]] = []
        keys.reserveCapacity(rows)
        var previous: [UInt8] = []
        for _ in 0..<rows {
            let shared = Int(try byte())
            guard shared <= previous.count else { throw Self.malformed("a key shares more bytes than the previous key has") }
            let key = Array(previous[..<shared]) + (try text())
            keys.append(key)
            previous = key
        }

        let width = try number()
        var values: [[UInt8]?] = Array(repeating: nil, count: rows)
        for column in 0..<width {
            var above: [UInt8]?
            for row in 0..<rows {
                let field: [UInt8]
                switch bytes.indices.contains(offset) ? bytes[offset] : nil {
                case PackedToken.absent:
                    offset += 1
                    try expectEnd()
                    above = nil
                    continue
                case PackedToken.sameAsAbove:
                    offset += 1
                    try expectEnd()
                    guard let above else { throw Self.malformed("\"same as above\" in a first or empty position") }
                    field = above
                case PackedToken.keyPrefix:
                    offset += 1
                    let length = Int(try byte())
                    try expectEnd()
                    guard length <= keys[row].count else { throw Self.malformed("a key prefix longer than the key") }
                    field = Array(keys[row][..<length])
                case PackedToken.keyPart:
                    offset += 1
                    let start = Int(try byte())
                    let length = Int(try byte())
                    try expectEnd()
                    guard start + length <= keys[row].count else { throw Self.malformed("a key part beyond the key") }
                    field = Array(keys[row][start..<(start + length)])
                default:
                    field = try text()
                }
                if column == 0 {
                    values[row] = field
                } else {
                    guard var value = values[row] else { throw Self.malformed("a field after an absent one") }
                    value.append(PackedToken.space)
                    value += field
                    values[row] = value
                }
                above = field
            }
        }
        section.items = zip(keys, values).map { key, value in
            var item = WireInventoryItem()
            item.key = String(decoding: key, as: UTF8.self)
            item.value = String(decoding: value ?? [], as: UTF8.self)
            return item
        }
        return section
    }

    mutating func byte() throws(TelexError) -> UInt8 {
        guard offset < bytes.count else { throw TelexError(.truncated, "packed inventory ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Unescaped text up to the end byte.
    mutating func text() throws(TelexError) -> [UInt8] {
        var out: [UInt8] = []
        while true {
            var next = try byte()
            if next == PackedToken.end { return out }
            if next == PackedToken.escape {
                next = try byte()
            } else if PackedToken.isSpecial(next) {
                throw Self.malformed("unescaped token byte \(next) inside text")
            }
            out.append(next)
        }
    }

    mutating func string() throws(TelexError) -> String {
        String(decoding: try text(), as: UTF8.self)
    }

    /// A decimal count, bounded by the bytes left (every counted thing takes at least one).
    mutating func number() throws(TelexError) -> Int {
        let digits = try text()
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              let value = Int(String(decoding: digits, as: UTF8.self)), value <= bytes.count - offset + 1 else {
            throw Self.malformed("a bad count")
        }
        return value
    }

    mutating func expectEnd() throws(TelexError) {
        guard try byte() == PackedToken.end else { throw Self.malformed("a token not followed by the end byte") }
    }

    static func malformed(_ why: String) -> TelexError {
        TelexError(.malformed, "packed inventory: \(why)", code: TelexCode.inventory.rawValue)
    }
}
