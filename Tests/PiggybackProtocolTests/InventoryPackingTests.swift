import Foundation
import PiggybackProtocol
import Testing

@Suite struct InventoryPackingTests {
    static func section(_ name: String, _ items: [(String, String)], removed: [String] = [], failed: String = "") -> WireInventorySection {
        var section = WireInventorySection()
        section.name = name
        section.failed = failed
        section.removed = removed
        section.items = items.map { key, value in
            var item = WireInventoryItem()
            item.key = key
            item.value = value
            return item
        }
        return section
    }

    /// A software section like dpkg's: name → "VERSION ARCH SIZE [SOURCE]".
    static var software: WireInventorySection {
        var items: [(String, String)] = []
        for index in 0..<800 {
            let source = "src\(index / 3)"
            let name = index % 3 == 0 ? source : "lib\(source)-\(index)"
            items.append((name, "1.\(index / 3)-\(index % 7)+deb12u1 \(index % 2 == 0 ? "amd64" : "all") \(index * 37 % 9000)" + (index % 3 == 0 ? "" : " \(source)")))
        }
        return section("software", items.sorted { $0.0 < $1.0 })
    }

    @Test func roundTripIsExact() throws {
        let sections = [
            Self.section("cpu", [("cores", "2"), ("model", "AMD EPYC 7B13 64-Core Processor")]),
            Self.section("dmi", [], failed: "cannot read /sys/class/dmi/id/product_serial: permission denied"),
            Self.section("odd", [
                ("", ""), ("a", "  double  spaces  "), ("a\nb", "line\nbreak"), ("ctl", "\u{1}\u{2}\u{7F}\u{1B}x"),
                ("ctlb", "\u{7F} \u{7F}"), ("ctlc", "\u{7F} \u{7F}"), ("emoji", "café ☕️ 日本"), ("prefix", "pre prefix prefix"),
                ("x", "one"), ("y", "one two three four"), ("z", ""),
            ], removed: ["gone", "also\ngone", ""]),
            Self.software,
        ]
        let packed = InventoryPacking.pack(sections)
        #expect(try InventoryPacking.unpack(packed) == sections)
    }

    @Test func packedFullInventoryIsMuchSmallerThanProtobuf() throws {
        var plain = WireInventory()
        plain.sections = [Self.software]
        var packed = WireInventory()
        packed.setSections([Self.software])
        #expect(!packed.packed.isEmpty && packed.sections.isEmpty)
        let plainSize = (try plain.serializedBytes() as [UInt8]).count
        let packedSize = (try packed.serializedBytes() as [UInt8]).count
        #expect(packedSize * 4 < plainSize, "packed \(packedSize) B vs plain \(plainSize) B")
        #expect(try packed.unpacked() == plain)
    }

    @Test func tinyDeltasStayPlain() throws {
        var inventory = WireInventory()
        inventory.setSections([Self.section("software", [("openssl", "3.0.15-1~deb12u1 amd64 2300")])])
        #expect(inventory.packed.isEmpty)
        #expect(inventory.sections.count == 1)
    }

    @Test func corruptOrHostileInputThrows() throws {
        let good = InventoryPacking.pack([Self.software])
        // Truncated stream, flipped bytes, random bytes: always an error, never a crash.
        #expect(throws: TelexError.self) { try InventoryPacking.unpack(Array(good.prefix(good.count / 2))) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes = good
            bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            _ = try? InventoryPacking.unpack(bytes)
            _ = try? InventoryPacking.unpack((0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        // Valid Brotli around an invalid layout.
        for layout: [UInt8] in [[9], [1, 0x61, 0x0A], [1, 0x61, 0x0A, 0x0A, 0x39, 0x39, 0x0A], [1, 0x61, 0x0A, 0x0A, 0x31, 0x0A, 0x30, 0x0A, 0x05]] {
            let error = #expect(throws: TelexError.self) { try InventoryPacking.unpack(Brotli.compress(layout)) }
            #expect(error?.reason == .malformed || error?.reason == .truncated)
        }
    }

    @Test func decompressionBombIsRefused() throws {
        let bomb = Brotli.compress([UInt8](repeating: 0x61, count: 8 << 20))
        #expect(bomb.count < 1024)
        let error = #expect(throws: TelexError.self) { try InventoryPacking.unpack(bomb, limit: 1 << 20) }
        #expect(error?.reason == .oversized)
    }

    @Test func bothEncodingsAtOnceIsMalformed() throws {
        var inventory = WireInventory()
        inventory.sections = [Self.section("cpu", [("cores", "2")])]
        inventory.packed = Data(InventoryPacking.pack(inventory.sections))
        #expect(throws: TelexError.self) { try inventory.unpacked() }
    }
}
