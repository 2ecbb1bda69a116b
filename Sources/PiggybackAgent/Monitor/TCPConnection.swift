#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP socket as listed in /proc/net/tcp or /proc/net/tcp6: who owns it and where it goes.
struct TCPConnection: Sendable, Hashable {
    /// The socket's inode: stable for the socket's life, and what /proc/PID/fd links name.
    var inode: UInt64
    /// The owner's user id.
    var uid: UInt32
    /// TCP state as the kernel numbers it (1 ESTABLISHED, 2 SYN_SENT, 10 LISTEN, ...).
    var state: UInt8
    /// The remote address: 4 bytes, or 16 for tcp6 (IPv4-mapped when dual-stack).
    var remoteAddress: [UInt8]
    /// The remote port.
    var remotePort: UInt16
    /// The socket's own port: with the remote endpoint, what a destroy announcement of the
    /// same connection carries (it has no inode).
    var localPort: UInt16 = 0

    static let established: UInt8 = 1
    static let synSent: UInt8 = 2

    /// Connecting or connected: the states in which a process is talking to a peer.
    var isActive: Bool { state == Self.established || state == Self.synSent }

    /// Where the connection goes.
    var remoteEndpoint: InternetEndpoint { InternetEndpoint(address: remoteAddress, port: remotePort) }

    /// 127.0.0.0/8, ::1 or the unspecified address: not traffic to another device.
    var isLoopbackRemote: Bool { remoteEndpoint.isLoopbackOrUnspecified }

    /// `ADDR:PORT`, `[ADDR]:PORT` for IPv6 (RFC 5952 text); IPv4-mapped shown as IPv4.
    var remote: String { remoteEndpoint.description }
}

extension TCPConnection {
    /// The sockets of one /proc/net/tcp{,6} text. Lines that do not parse are skipped; so is
    /// the header. Columns: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
    static func parseTable(_ text: ArraySlice<UInt8>) -> [TCPConnection] {
        var connections: [TCPConnection] = []
        var lineStart = text.startIndex
        var first = true
        while lineStart < text.endIndex {
            let lineEnd = text[lineStart...].firstIndex(of: 0x0A) ?? text.endIndex
            if !first, let connection = parseLine(text[lineStart..<lineEnd]) {
                connections.append(connection)
            }
            first = false
            lineStart = lineEnd + 1
        }
        return connections
    }

    static func parseLine(_ line: ArraySlice<UInt8>) -> TCPConnection? {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(10)
        var index = line.startIndex
        while index < line.endIndex, fields.count < 10 {
            while index < line.endIndex, line[index] == 0x20 { index += 1 }
            let start = index
            while index < line.endIndex, line[index] != 0x20 { index += 1 }
            if start < index { fields.append(line[start..<index]) }
        }
        guard fields.count == 10,
              let localColon = fields[1].firstIndex(of: 0x3A),
              let localPort = hex(fields[1][(localColon + 1)...]), localPort <= UInt16.max,
              let colon = fields[2].firstIndex(of: 0x3A),
              let address = parseAddress(fields[2][..<colon]),
              let port = hex(fields[2][(colon + 1)...]), port <= UInt16.max,
              let state = hex(fields[3]), state <= UInt8.max,
              let uid = decimal(fields[7]), uid <= UInt32.max,
              let inode = decimal(fields[9])
        else { return nil }
        return TCPConnection(inode: inode, uid: UInt32(uid), state: UInt8(state), remoteAddress: address, remotePort: UInt16(port),
                             localPort: UInt16(localPort))
    }

    /// The kernel prints each 32-bit word of the address as the hex of its in-memory value,
    /// so the host's byte order turns it back into network order.
    static func parseAddress(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count == 8 || text.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            guard let word = hex(text[index..<(index + 8)]) else { return nil }
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: word)) { bytes.append(contentsOf: $0) }
            index += 8
        }
        return bytes
    }

    static func hex(_ text: ArraySlice<UInt8>) -> UInt64? {
        guard !text.isEmpty, text.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x41...0x46: digit = byte - 0x41 + 10
            case 0x61...0x66: digit = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    static func decimal(_ text: ArraySlice<UInt8>) -> UInt64? {
        guard !text.isEmpty, text.count <= 19 else { return nil }
        var value: UInt64 = 0
        for byte in text {
            guard (0x30...0x39).contains(byte) else { return nil }
            value = value * 10 + UInt64(byte - 0x30)
        }
        return value
    }
}
