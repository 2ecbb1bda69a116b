import NIOCore

/// A streaming tar reader: ustar, GNU long names (`L`/`K`) and pax `path`/`linkpath`/`size`
/// records, reading its source in pieces (never the whole archive in memory).
///
/// Headers are checksummed; anything it does not understand (sparse files, multi-volume,
/// unknown entry types) is an error rather than a guess, since the content is installed.
struct TarReader<Source: ByteChunkSource> {
    private var source: Source
    private var buffer = ByteBuffer()
    /// Content bytes of the current entry not yet consumed, and the padding after them.
    private var remaining: UInt64 = 0
    private var padding: UInt64 = 0
    private var headers = 0

    /// Longest GNU long name or pax header accepted (real names stop at PATH_MAX).
    static var maxMetadataBytes: UInt64 { 1 << 20 }

    init(_ source: Source) {
        self.source = source
    }

    /// The next entry, nil at the end of the archive. Skips what is left of the previous
    /// entry's content.
    mutating func next() throws -> ArchiveEntry? {
        try skip(remaining + padding)
        remaining = 0
        padding = 0
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            guard try fill(512) else {
                if longName != nil || longLink != nil || !pax.isEmpty { throw truncated() }
                return nil  // tolerated: end without the two zero blocks
            }
            let header = Array(buffer.readableBytesView.prefix(512))
            buffer.moveReaderIndex(forwardBy: 512)
            if header.allSatisfy({ $0 == 0 }) { return nil }
            headers += 1
            try verifyChecksum(header)
            let size = try Self.number(header[124..<136], field: "size")
            let type = header[156]
            switch type {
            case UInt8(ascii: "L"): longName = try readMetadata(size)
            case UInt8(ascii: "K"): longLink = try readMetadata(size)
            case UInt8(ascii: "x"): pax.merge(try Self.paxRecords(readMetadata(size))) { $1 }
            case UInt8(ascii: "g"), UInt8(ascii: "V"): try skip(Self.padded(size))
            default:
                var entry = try Self.entry(header, type: type, size: size)
                if let name = pax["path"] ?? longName { entry.path = name }
                if let link = pax["linkpath"] ?? longLink { entry.linkTarget = link }
                if let text = pax["size"] {
                    guard let value = UInt64(text) else { throw InstallFailure("corrupt tar pax size '\(text.prefix(40))'") }
                    entry.size = value
                }
                if entry.kind == .file {
                    remaining = entry.size
                    padding = Self.padded(entry.size) - entry.size
                } else {
                    try skip(Self.padded(size))  // links, directories, devices carry no content
                }
                return entry
            }
        }
    }

    /// Reads the source to its end after the last entry, so a gzip stream's trailer (its
    /// CRC and length) is verified even when the tar ends first.
    mutating func drain() throws {
        while try source.nextChunk() != nil {}
    }

    /// Streams the current entry's content to `body`, in pieces.
    mutating func readContent(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while remaining > 0 {
            guard try fill(1) else { throw truncated() }
            let count = Int(min(remaining, UInt64(buffer.readableBytes)))
            try buffer.withUnsafeReadableBytes { pointer in
                try body(UnsafeRawBufferPointer(rebasing: pointer.prefix(count)))
            }
            buffer.moveReaderIndex(forwardBy: count)
            remaining -= UInt64(count)
        }
        try skip(padding)
        padding = 0
    }

    // MARK: - Header fields

    private static func entry(_ header: [UInt8], type: UInt8, size: UInt64) throws -> ArchiveEntry {
        let kind: ArchiveEntry.Kind
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "1"): kind = .hardLink
        case UInt8(ascii: "2"): kind = .symlink
        case UInt8(ascii: "3"): kind = .characterDevice
        case UInt8(ascii: "4"): kind = .blockDevice
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "6"): kind = .fifo
        case UInt8(ascii: "S"): throw InstallFailure("the tar archive holds a GNU sparse file, which is not supported; repack without --sparse")
        default:
            let shown = type >= 0x20 && type < 0x7f ? String(UnicodeScalar(type)) : "0x" + String(type, radix: 16)
            throw InstallFailure("the tar archive holds an entry of unsupported type '\(shown)'")
        }
        var name = string(header[0..<100])
        // POSIX ustar ("ustar\0"): a prefix holds the leading directories of long names. GNU
        // ("ustar  \0") uses those bytes for other fields.
        if header[257..<263].elementsEqual(Array("ustar".utf8) + [0]) {
            let prefix = string(header[345..<500])
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        let mode = UInt32(truncatingIfNeeded: (try? number(header[100..<108], field: "mode")) ?? 0o644)
        return ArchiveEntry(path: name, kind: kind, linkTarget: string(header[157..<257]), size: kind == .file ? size : 0, mode: mode)
    }

    /// A NUL-terminated header string.
    private static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU base-256 when the high bit of the first byte is set.
    static func number(_ bytes: ArraySlice<UInt8>, field: String) throws -> UInt64 {
        guard let first = bytes.first else { return 0 }
        if first & 0x80 != 0 {
            guard first == 0x80 else { throw InstallFailure("corrupt tar header: negative or oversized \(field)") }
            var value: UInt64 = 0
            for byte in bytes.dropFirst() {
                guard value >> 56 == 0 else { throw InstallFailure("corrupt tar header: \(field) too large") }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        var value: UInt64 = 0
        var digits = bytes.drop { $0 == 0x20 || $0 == 0 }[...]
        digits = digits.prefix { $0 != 0x20 && $0 != 0 }
        for byte in digits {
            guard (0x30...0x37).contains(byte), value >> 60 == 0 else {
                throw InstallFailure("corrupt tar header: the \(field) field is not an octal number")
            }
            value = value << 3 | UInt64(byte - 0x30)
        }
        return value
    }

    private func verifyChecksum(_ header: [UInt8]) throws {
        let stored = try Self.number(header[148..<156], field: "checksum")
        var unsigned: UInt64 = 0
        var signed: Int64 = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? 0x20 : byte
            unsigned += UInt64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        guard stored == unsigned || Int64(stored) == signed else {
            throw InstallFailure(headers == 1
                ? "the package is not a tar archive (bad header checksum)"
                : "corrupt tar archive: header \(headers) has a bad checksum")
        }
    }

    /// pax extended header records: "LEN key=value\n".
    static func paxRecords(_ text: String) throws -> [String: String] {
        var records: [String: String] = [:]
        var rest = Substring(text).utf8[...]
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: 0x20),
                  let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
                  length > 0, length <= rest.count
            else { throw InstallFailure("corrupt tar pax header") }
            let record = rest.prefix(length)
            rest = rest.dropFirst(length)
            guard record.last == 0x0a else { throw InstallFailure("corrupt tar pax header") }
            let body = record[record.index(after: space)...].dropLast()
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else { throw InstallFailure("corrupt tar pax header") }
            let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
            let value = String(decoding: body[body.index(after: equals)...], as: UTF8.self)
            if ["path", "linkpath", "size"].contains(key) { records[key] = value.isEmpty ? nil : value }
        }
        return records
    }

    // MARK: - Buffering

    private static func padded(_ size: UInt64) -> UInt64 {
        (size + 511) / 512 * 512
    }

    private mutating func readMetadata(_ size: UInt64) throws -> String {
        guard size <= Self.maxMetadataBytes else { throw InstallFailure("corrupt tar archive: a \(size)-byte name or pax header") }
        guard try fill(Int(size)) else { throw truncated() }
        let bytes = buffer.readableBytesView.prefix(Int(size)).prefix { $0 != 0 }
        let text = String(decoding: bytes, as: UTF8.self)
        try skip(Self.padded(size))
        return text
    }

    /// Makes at least `count` bytes readable; false when the archive ends first.
    private mutating func fill(_ count: Int) throws -> Bool {
        while buffer.readableBytes < count {
            guard let chunk = try source.nextChunk() else { return false }
            if buffer.readableBytes == 0 {
                buffer = chunk
            } else {
                var chunk = chunk
                buffer.discardReadBytes()
                buffer.writeBuffer(&chunk)
            }
        }
        return true
    }

    private mutating func skip(_ count: UInt64) throws {
        var left = count
        while left > 0 {
            guard try fill(1) else { throw truncated() }
            let step = Int(min(left, UInt64(buffer.readableBytes)))
            buffer.moveReaderIndex(forwardBy: step)
            left -= UInt64(step)
        }
    }

    private func truncated() -> InstallFailure {
        InstallFailure("the tar archive ends in the middle of an entry; it is truncated")
    }
}
