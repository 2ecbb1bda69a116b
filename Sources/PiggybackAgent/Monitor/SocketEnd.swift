/// A TCP or UDP socket of some process that the kernel has just destroyed, as announced on
/// the sock_diag destroy groups: where it went and whether the network carried anything.
///
/// A destroy announcement is how the monitor sees connections too short for any poll: a
/// program that connects, asks, and closes within milliseconds still ends, and the kernel
/// says so. What the announcement lacks is the owner (its uid and inode are zero by then), so
/// telling the agent's own sockets apart is ``OwnTraffic``'s job.
struct SocketEnd: Sendable, Hashable {
    /// The transport, from the INET_DIAG_PROTOCOL attribute.
    enum Transport: String, Sendable, Hashable {
        case tcp, udp
    }

    var transport: Transport
    /// The socket's own port.
    var localPort: UInt16
    /// The peer it was connected to.
    var remote: InternetEndpoint
    /// TCP only: segments received from the peer (tcp_info's `tcpi_segs_in`); nil for UDP or
    /// when the kernel sent no tcp_info. Zero means the peer never answered.
    var segmentsIn: UInt32?

    /// Communication with another device that the network carried: a peer that is not this
    /// host, a connected socket, and for TCP at least one segment back (a SYN nobody answered,
    /// or a refused one, is not the network working for the user).
    var isConversation: Bool {
        guard remote.port != 0, !remote.isLoopbackOrUnspecified else { return false }
        return transport == .udp || (segmentsIn ?? 1) > 0
    }
}

extension SocketEnd {
    /// Size of `struct inet_diag_msg`, which follows the netlink header.
    static let diagMessageSize = 72
    /// INET_DIAG_INFO (tcp_info) and INET_DIAG_PROTOCOL attribute types.
    static let infoAttribute: UInt16 = 2
    static let protocolAttribute: UInt16 = 10
    /// Offset of `tcpi_segs_in` in `struct tcp_info` (stable since Linux 4.2).
    static let segmentsInOffset = 140

    /// Reads one destroy announcement (a SOCK_DIAG_BY_FAMILY message); nil when it is not one
    /// or does not fit. Every field is bounds-checked: the bytes come from the kernel, but a
    /// parser that trusts lengths is a parser that can be made to crash.
    init?(_ message: NetlinkMessage) {
        let body = message.payload
        guard message.type == SocketEnd.sockDiagByFamily, body.count >= Self.diagMessageSize,
              let family = body.u8(at: body.startIndex)
        else { return nil }
        let addressSize: Int
        switch family {
        case Netlink.familyIPv4: addressSize = 4
        case Netlink.familyIPv6: addressSize = 16
        default: return nil
        }
        let base = body.startIndex
        let localPort = UInt16(body[base + 4]) << 8 | UInt16(body[base + 5])
        let remotePort = UInt16(body[base + 6]) << 8 | UInt16(body[base + 7])
        let remoteAddress = Array(body[(base + 24)..<(base + 24 + addressSize)])
        let attributes = NetlinkAttributes(body[(base + Self.diagMessageSize)...])
        let transport: Transport
        switch attributes[Self.protocolAttribute]?.first {
        case 6: transport = .tcp
        case 17: transport = .udp
        default: return nil
        }
        var segmentsIn: UInt32?
        if transport == .tcp, let info = attributes[Self.infoAttribute] {
            segmentsIn = info.u32(at: info.startIndex + Self.segmentsInOffset)
        }
        self.init(transport: transport, localPort: localPort,
                  remote: InternetEndpoint(address: remoteAddress, port: remotePort), segmentsIn: segmentsIn)
    }

    /// SOCK_DIAG_BY_FAMILY: the message type of sock_diag replies and announcements.
    static let sockDiagByFamily: UInt16 = 20
}
