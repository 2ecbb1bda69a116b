@testable import PiggybackAgent

/// Builds the netlink messages a kernel dump would contain, for the parser tests.
enum NetlinkBytes {
    struct RouteSpec {
        var family: UInt8
        var interface: Int32?
        var table: UInt32 = 254
        var type: UInt8 = 1
        var destinationLength: UInt8 = 0
        var flags: UInt32 = 0
        var priority: UInt32? = nil
        var multipath: [(Int32, UInt8)] = []
    }

    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendNative(UInt16(4 + value.count))
        bytes.appendNative(type)
        bytes += value
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func native<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    static func link(index: Int32, name: String, flags: UInt32) -> NetlinkMessage {
        var body: [UInt8] = [0, 0] + native(UInt16(1)) + native(index) + native(flags) + native(UInt32(0))
        body += attribute(3, Array(name.utf8) + [0])
        return message(Netlink.newLink, body)
    }

    static func address(index: Int32, family: UInt8, scope: UInt8) -> NetlinkMessage {
        let body: [UInt8] = [family, family == 2 ? 24 : 64, 0x80, scope] + native(UInt32(bitPattern: index))
        return message(Netlink.newAddress, body)
    }

    static func route(_ spec: RouteSpec) -> NetlinkMessage {
        var body: [UInt8] = [spec.family, spec.destinationLength, 0, 0, UInt8(truncatingIfNeeded: spec.table), 3, 0, spec.type]
        body += native(spec.flags)
        body += attribute(15, native(spec.table))
        if let interface = spec.interface { body += attribute(4, native(interface)) }
        if let priority = spec.priority { body += attribute(6, native(priority)) }
        if !spec.multipath.isEmpty {
            var hops: [UInt8] = []
            for (interface, flags) in spec.multipath {
                hops += native(UInt16(8)) + [flags, 0] + native(interface)
            }
            body += attribute(9, hops)
        }
        return message(Netlink.newRoute, body)
    }

    static func message(_ type: UInt16, _ body: [UInt8]) -> NetlinkMessage {
        let bytes = NetlinkMessage.request(type: type, flags: Netlink.multi, sequence: 1, body: body)
        return NetlinkMessage.parse(bytes[...])[0]
    }

    /// Links (index, name, IFF_* flags), addresses (index, family, scope) and routes.
    static func snapshot(links: [(Int32, String, UInt32)], addresses: [(Int32, UInt8, UInt8)], routes: [RouteSpec]) -> NetworkSnapshot {
        var snapshot = NetworkSnapshot()
        for (index, name, flags) in links { snapshot.add(link(index: index, name: name, flags: flags)) }
        for (index, family, scope) in addresses { snapshot.add(address(index: index, family: family, scope: scope)) }
        for spec in routes { snapshot.add(route(spec)) }
        return snapshot
    }
}
