/// Links, addresses and routes as dumped from the kernel, and the verdict on connectivity.
///
/// The monitor re-dumps all three after every burst of notifications rather than patching a
/// model: the kernel does not announce every route it drops (IPv4 routes flushed when a link
/// goes down come with no RTM_DELROUTE), and a fresh dump is never out of date.
struct NetworkSnapshot: Sendable, Equatable {
    /// An interface (`ifinfomsg` + IFLA_IFNAME).
    struct Link: Sendable, Equatable {
        var index: Int32
        var name: String
        var flags: UInt32
    }

    /// An address on an interface (`ifaddrmsg` + IFA_FLAGS).
    struct Address: Sendable, Equatable {
        var family: UInt8
        var index: Int32
        var scope: UInt8
        var flags: UInt32
    }

    /// A route (`rtmsg` + RTA_TABLE, RTA_OIF, RTA_PRIORITY, RTA_MULTIPATH).
    struct Route: Sendable, Equatable {
        var family: UInt8
        var destinationLength: UInt8
        var table: UInt32
        var type: UInt8
        var flags: UInt32
        var priority: UInt32
        /// (interface index, RTNH_F_* flags) per next hop; one for a single-path route.
        var nextHops: [NextHop]
    }

    /// Where a route leaves the terminal.
    struct NextHop: Sendable, Equatable {
        var interface: Int32
        var flags: UInt8
    }

    var links: [Int32: Link] = [:]
    var addresses: [Address] = []
    var routes: [Route] = []

    // ifinfomsg / ifaddrmsg / rtmsg sizes and the attributes read
    static let linkHeaderSize = 16
    static let addressHeaderSize = 8
    static let routeHeaderSize = 12
    static let linkName: UInt16 = 3            // IFLA_IFNAME
    static let addressFlags: UInt16 = 8        // IFA_FLAGS
    static let routeOutputInterface: UInt16 = 4 // RTA_OIF
    static let routePriority: UInt16 = 6       // RTA_PRIORITY
    static let routeMultipath: UInt16 = 9      // RTA_MULTIPATH
    static let routeTable: UInt16 = 15         // RTA_TABLE

    /// Adds what a dump or notification message describes; anything malformed is skipped.
    mutating func add(_ message: NetlinkMessage) {
        switch message.type {
        case Netlink.newLink:
            if let link = Self.link(message.payload) { links[link.index] = link }
        case Netlink.newAddress:
            if let address = Self.address(message.payload) { addresses.append(address) }
        case Netlink.newRoute:
            if let route = Self.route(message.payload) { routes.append(route) }
        default:
            break
        }
    }

    static func link(_ payload: ArraySlice<UInt8>) -> Link? {
        let start = payload.startIndex
        guard payload.count >= linkHeaderSize,
              let index = payload.u32(at: start + 4).map({ Int32(bitPattern: $0) }),
              let flags = payload.u32(at: start + 8)
        else { return nil }
        let attributes = NetlinkAttributes(payload.dropFirst(linkHeaderSize))
        guard let name = attributes.string(linkName), !name.isEmpty else { return nil }
        return Link(index: index, name: name, flags: flags)
    }

    static func address(_ payload: ArraySlice<UInt8>) -> Address? {
        let start = payload.startIndex
        guard payload.count >= addressHeaderSize,
              let family = payload.u8(at: start),
              let shortFlags = payload.u8(at: start + 2),
              let scope = payload.u8(at: start + 3),
              let index = payload.u32(at: start + 4).map({ Int32(bitPattern: $0) })
        else { return nil }
        let attributes = NetlinkAttributes(payload.dropFirst(addressHeaderSize))
        return Address(family: family, index: index, scope: scope, flags: attributes.u32(addressFlags) ?? UInt32(shortFlags))
    }

    static func route(_ payload: ArraySlice<UInt8>) -> Route? {
        let start = payload.startIndex
        guard payload.count >= routeHeaderSize,
              let family = payload.u8(at: start),
              let destinationLength = payload.u8(at: start + 1),
              let shortTable = payload.u8(at: start + 4),
              let type = payload.u8(at: start + 7),
              let flags = payload.u32(at: start + 8)
        else { return nil }
        let attributes = NetlinkAttributes(payload.dropFirst(routeHeaderSize))
        var hops: [NextHop] = []
        if let interface = attributes.u32(routeOutputInterface) {
            hops.append(NextHop(interface: Int32(bitPattern: interface), flags: UInt8(truncatingIfNeeded: flags)))
        }
        if let multipath = attributes[routeMultipath] {
            hops += nextHops(multipath)
        }
        return Route(
            family: family, destinationLength: destinationLength,
            table: attributes.u32(routeTable) ?? UInt32(shortTable), type: type, flags: flags,
            priority: attributes.u32(routePriority) ?? 0, nextHops: hops
        )
    }

    /// The `rtnexthop` records of RTA_MULTIPATH (8-byte header, then attributes, aligned).
    static func nextHops(_ bytes: ArraySlice<UInt8>) -> [NextHop] {
        var hops: [NextHop] = []
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 8 {
            guard let length = bytes.u16(at: offset).map(Int.init), length >= 8,
                  length <= bytes.endIndex - offset,
                  let flags = bytes.u8(at: offset + 2),
                  let interface = bytes.u32(at: offset + 4)
            else { break }
            hops.append(NextHop(interface: Int32(bitPattern: interface), flags: flags))
            offset += min(Netlink.align(length), bytes.endIndex - offset)
        }
        return hops
    }
}
