import Foundation

/// The packed encoding of inventory sections: columns, then Brotli.
///
/// Inventory is a few sorted tables (the software section is ~90 % of it). Written row by
/// row as protobuf, every value carries a tag and a length that break the compressor's
/// matches; written column by column — sorted keys front-coded, then the first word of
/// every value, then the second… — like values sit together and compress about 30 %
/// better. The format is exact: unpacking gives back the very sections that were packed.
/// Layout in docs/PROTOCOL.md ("Packed inventory").
public enum InventoryPacking {
    /// Format version, the first byte before compression.
    static let version: UInt8 = 1
    /// Largest unpacked size accepted (a full inventory is well under 1 MiB).
    public static let defaultLimit = 32 << 20

    /// Packs and compresses `sections`.
    public static func pack(_ sections: [WireInventorySection]) -> [UInt8] {
        var writer = ColumnWriter()
        writer.bytes.append(version)
        for section in sections { writer.write(section) }
        return Brotli.compress(writer.bytes)
    }

    /// Decompresses and unpacks; throws `malformed`/`truncated`/`oversized` on bad input.
    public static func unpack(_ packed: [UInt8], limit: Int = defaultLimit) throws(TelexError) -> [WireInventorySection] {
        let bytes = try Brotli.decompress(packed, limit: limit)
        var reader = ColumnReader(bytes: bytes)
        guard try reader.byte() == version else {
            throw TelexError(.malformed, "packed inventory: unknown format version \(bytes.first ?? 0)")
        }
        var sections: [WireInventorySection] = []
        while !reader.atEnd { sections.append(try reader.section()) }
        return sections
    }
}

/// Token bytes of the packed format; any of them inside text is escaped with `escape`.
enum PackedToken {
    static let end: UInt8 = 0x0A
    static let absent: UInt8 = 0x01
    static let keyPrefix: UInt8 = 0x02
    static let keyPart: UInt8 = 0x03
    static let sameAsAbove: UInt8 = 0x7F
    static let escape: UInt8 = 0x1B
    static let space: UInt8 = 0x20

    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == end || byte == absent || byte == keyPrefix || byte == keyPart || byte == sameAsAbove || byte == escape
    }
}

extension WireInventory {
    /// The sections, whichever encoding carried them.
    public func unpackedSections(limit: Int = InventoryPacking.defaultLimit) throws(TelexError) -> [WireInventorySection] {
        guard !packed.isEmpty else { return sections }
        guard sections.isEmpty else {
            throw TelexError(.malformed, "inventory carries both sections and packed sections", code: TelexCode.inventory.rawValue)
        }
        return try InventoryPacking.unpack(Array(packed), limit: limit)
    }

    /// Sets the sections in whichever encoding is smaller on the wire.
    public mutating func setSections(_ sections: [WireInventorySection]) {
        var plain = WireInventory()
        plain.sections = sections
        let plainSize = (try? plain.serializedBytes() as [UInt8])?.count ?? .max
        let packed = InventoryPacking.pack(sections)
        if packed.count + 4 < plainSize {
            self.sections = []
            self.packed = .init(packed)
        } else {
            self.sections = sections
            self.packed = .init()
        }
    }
}

extension WireInventory {
    /// The same upload with its sections in plain form, for code that reads `sections`.
    public func unpacked(limit: Int = InventoryPacking.defaultLimit) throws(TelexError) -> WireInventory {
        guard !packed.isEmpty else { return self }
        var copy = self
        copy.sections = try unpackedSections(limit: limit)
        copy.packed = Data()
        return copy
    }
}
