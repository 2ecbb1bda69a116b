/// Writes sections in the packed layout (before compression); see ``InventoryPacking``.
struct ColumnWriter {
    var bytes: [UInt8] = []

    mutating func write(_ section: WireInventorySection) {
        text(Array(section.name.utf8))
        text(Array(section.failed.utf8))
        number(section.items.count)
        number(section.removed.count)
        for key in section.removed { text(Array(key.utf8)) }

        let keys = section.items.map { Array($0.key.utf8) }
        // Keys, front-coded: bytes shared with the previous key (one byte, ≤ 255), then the rest.
        var previous: [UInt8] = []
        for key in keys {
            let shared = zip(key, previous).prefix(255).prefix { $0 == $1 }.count
            bytes.append(UInt8(shared))
            text(key[shared...])
            previous = key
        }

        // Values split at spaces into fields; column i holds field i of every row.
        let fields = section.items.map { Array($0.value.utf8).split(separator: PackedToken.space, omittingEmptySubsequences: false) }
        let width = fields.map(\.count).max() ?? 0
        number(width)
        for column in 0..<width {
            var above: ArraySlice<UInt8>?
            for (row, rowFields) in fields.enumerated() {
                guard column < rowFields.count else {
                    bytes.append(PackedToken.absent)
                    bytes.append(PackedToken.end)
                    above = nil
                    continue
                }
                let field = rowFields[column]
                let key = keys[row]
                if !field.isEmpty, let above, field.elementsEqual(above) {
                    bytes.append(PackedToken.sameAsAbove)
                    bytes.append(PackedToken.end)
                } else if field.count >= 3, field.count <= 255, key.starts(with: field) {
                    bytes.append(PackedToken.keyPrefix)
                    bytes.append(UInt8(field.count))
                    bytes.append(PackedToken.end)
                } else if field.count >= 3, let start = Self.find(field, in: key), start <= 255, field.count <= 255 {
                    bytes.append(PackedToken.keyPart)
                    bytes.append(UInt8(start))
                    bytes.append(UInt8(field.count))
                    bytes.append(PackedToken.end)
                } else {
                    text(field)
                }
                above = field
            }
        }
    }

    /// Where `field` first occurs inside `key` (a Debian source inside its binary package's name).
    static func find(_ field: ArraySlice<UInt8>, in key: [UInt8]) -> Int? {
        guard field.count <= key.count else { return nil }
        return (0...(key.count - field.count)).first { key[$0..<($0 + field.count)].elementsEqual(field) }
    }

    /// Text with special bytes escaped, then the end byte.
    mutating func text<Bytes: Collection<UInt8>>(_ text: Bytes) {
        for byte in text {
            if PackedToken.isSpecial(byte) { bytes.append(PackedToken.escape) }
            bytes.append(byte)
        }
        bytes.append(PackedToken.end)
    }

    mutating func number(_ value: Int) {
        text(Array(String(value).utf8))
    }
}
