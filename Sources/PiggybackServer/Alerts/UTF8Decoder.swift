/// Decodes one character at a time from a line's bytes, for the pattern matcher. Log lines
/// are not always valid UTF-8: an undecodable byte becomes one character of its own
/// (``invalidBase`` + byte), matched by `.` and negated classes but by no literal.
enum UTF8Decoder {
    /// No character: before the line's start or past its end.
    static let none: UInt32 = .max
    /// Undecodable byte `b` decodes to `invalidBase + b`, above every Unicode scalar.
    static let invalidBase: UInt32 = 0x11_0000

    /// The character at `index` and its length in bytes; ``none`` and 0 past the end.
    @inline(__always) static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int) {
        guard index < bytes.count else { return (none, 0) }
        let lead = bytes[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        return multibyte(bytes, at: index)
    }

    static func multibyte(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (UInt32, Int) {
        let lead = bytes[index]
        let invalid = (invalidBase + UInt32(lead), 1)
        func continuation(_ offset: Int) -> UInt32? {
            guard index + offset < bytes.count else { return nil }
            let byte = bytes[index + offset]
            return byte & 0xC0 == 0x80 ? UInt32(byte & 0x3F) : nil
        }
        switch lead {
        case 0xC2...0xDF:
            guard let b1 = continuation(1) else { return invalid }
            return ((UInt32(lead & 0x1F) << 6) | b1, 2)
        case 0xE0...0xEF:
            guard let b1 = continuation(1), let b2 = continuation(2) else { return invalid }
            let value = (UInt32(lead & 0x0F) << 12) | (b1 << 6) | b2
            // Overlong forms and UTF-16 surrogates are not characters.
            guard value >= 0x800, !(0xD800...0xDFFF).contains(value) else { return invalid }
            return (value, 3)
        case 0xF0...0xF4:
            guard let b1 = continuation(1), let b2 = continuation(2), let b3 = continuation(3) else { return invalid }
            let value = (UInt32(lead & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3
            guard value >= 0x1_0000, value <= 0x10_FFFF else { return invalid }
            return (value, 4)
        default:
            return invalid
        }
    }

    /// `\w` for `\b`: ASCII letters, digits and underscore.
    @inline(__always) static func isWord(_ c: UInt32) -> Bool {
        c < 128 && ((c | 0x20) &- 97 < 26 || c &- 48 < 10 || c == 95)
    }

    /// What `.` does not match: LF, VT, FF, CR, NEL, LINE and PARAGRAPH SEPARATOR.
    @inline(__always) static func isLineTerminator(_ c: UInt32) -> Bool {
        c &- 10 < 4 || c == 0x85 || c == 0x2028 || c == 0x2029
    }
}
