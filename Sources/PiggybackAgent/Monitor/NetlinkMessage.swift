/// One netlink message cut out of a received datagram: the `nlmsghdr` fields and the payload.
///
/// Netlink is host byte order. Every read is bounds-checked: a message whose length field
/// does not fit the datagram ends the parse of that datagram instead of reading past it.
struct NetlinkMessage: Sendable, Equatable {
    /// `nlmsg_type`: RTM_NEWLINK, NLMSG_DONE, ...
    var type: UInt16
    /// `nlmsg_flags`.
    var flags: UInt16
    /// `nlmsg_seq`: matches a dump's replies to its request.
    var sequence: UInt32
    /// `nlmsg_pid`: the sender's port (0 for the kernel).
    var portID: UInt32
    /// Everything after the 16-byte header.
    var payload: ArraySlice<UInt8>

    static let headerSize = 16

    /// The messages in one datagram, in order; stops at the first malformed one.
    static func parse(_ datagram: ArraySlice<UInt8>) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = datagram.startIndex
        while datagram.endIndex - offset >= headerSize {
            guard let length = datagram.u32(at: offset).map(Int.init),
                  length >= headerSize, length <= datagram.endIndex - offset,
                  let type = datagram.u16(at: offset + 4),
                  let flags = datagram.u16(at: offset + 6),
                  let sequence = datagram.u32(at: offset + 8),
                  let portID = datagram.u32(at: offset + 12)
            else { break }
            messages.append(NetlinkMessage(
                type: type, flags: flags, sequence: sequence, portID: portID,
                payload: datagram[(offset + headerSize)..<(offset + length)]
            ))
            offset += min(Netlink.align(length), datagram.endIndex - offset)
        }
        return messages
    }

    /// A request: header followed by `body`, length filled in.
    static func request(type: UInt16, flags: UInt16, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + body.count)
        bytes.appendNative(UInt32(headerSize + body.count))
        bytes.appendNative(type)
        bytes.appendNative(flags)
        bytes.appendNative(sequence)
        bytes.appendNative(UInt32(0))
        bytes.append(contentsOf: body)
        return bytes
    }

    /// For NLMSG_ERROR: the (negative) errno, 0 for an acknowledgement.
    var errorCode: Int32? {
        payload.u32(at: payload.startIndex).map { Int32(bitPattern: $0) }
    }
}

/// Route attributes (`rtattr`) after a fixed-size family header, by type.
///
/// The last occurrence of a type wins. A length that is too short or runs past the end
/// stops the walk; what was read before stays.
struct NetlinkAttributes: Sendable {
    private(set) var values: [UInt16: ArraySlice<UInt8>] = [:]

    init(_ bytes: ArraySlice<UInt8>) {
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 4 {
            guard let length = bytes.u16(at: offset).map(Int.init), length >= 4,
                  length <= bytes.endIndex - offset,
                  let type = bytes.u16(at: offset + 2)
            else { break }
            values[type & 0x3FFF] = bytes[(offset + 4)..<(offset + length)]
            offset += min(Netlink.align(length), bytes.endIndex - offset)
        }
    }

    subscript(type: UInt16) -> ArraySlice<UInt8>? { values[type] }

    /// A 32-bit attribute, or nil when absent or short.
    func u32(_ type: UInt16) -> UInt32? {
        values[type].flatMap { $0.u32(at: $0.startIndex) }
    }

    /// A NUL-terminated string attribute (interface names).
    func string(_ type: UInt16) -> String? {
        guard let value = values[type] else { return nil }
        let bytes = value.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Constants from linux/netlink.h and linux/rtnetlink.h (not exported by Swift's Glibc).
enum Netlink {
    static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    // Message types
    static let noop: UInt16 = 1
    static let error: UInt16 = 2
    static let done: UInt16 = 3
    static let overrun: UInt16 = 4
    static let newLink: UInt16 = 16
    static let delLink: UInt16 = 17
    static let getLink: UInt16 = 18
    static let newAddress: UInt16 = 20
    static let delAddress: UInt16 = 21
    static let getAddress: UInt16 = 22
    static let newRoute: UInt16 = 24
    static let delRoute: UInt16 = 25
    static let getRoute: UInt16 = 26

    // Flags
    static let request: UInt16 = 0x1
    static let multi: UInt16 = 0x2
    static let dumpInterrupted: UInt16 = 0x10
    static let dump: UInt16 = 0x300

    // Multicast groups (RTMGRP_*), as the bit mask of sockaddr_nl.nl_groups
    static let groupLink: UInt32 = 0x1
    static let groupIPv4Address: UInt32 = 0x10
    static let groupIPv4Route: UInt32 = 0x40
    static let groupIPv6Address: UInt32 = 0x100
    static let groupIPv6Route: UInt32 = 0x400
    static let routeGroups = groupLink | groupIPv4Address | groupIPv6Address | groupIPv4Route | groupIPv6Route

    // Families
    static let familyUnspecified: UInt8 = 0
    static let familyIPv4: UInt8 = 2
    static let familyIPv6: UInt8 = 10
}

extension ArraySlice<UInt8> {
    /// A host-order UInt16 at an absolute index, or nil when it does not fit.
    func u16(at index: Int) -> UInt16? {
        guard index >= startIndex, index + 2 <= endIndex else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: UInt16.self) }
    }

    /// A host-order UInt32 at an absolute index, or nil when it does not fit.
    func u32(at index: Int) -> UInt32? {
        guard index >= startIndex, index + 4 <= endIndex else { return nil }
        return withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index - startIndex, as: UInt32.self) }
    }

    /// A byte at an absolute index, or nil when out of range.
    func u8(at index: Int) -> UInt8? {
        indices.contains(index) ? self[index] : nil
    }
}

extension Array<UInt8> {
    /// Appends an integer in host byte order, as netlink wants it.
    mutating func appendNative<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value) { append(contentsOf: $0) }
    }
}
