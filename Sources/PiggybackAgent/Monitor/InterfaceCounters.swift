/// Parses /proc/net/dev, where a new TCP connection first shows: its SYN (or SYN-ACK) is a
/// transmitted packet.
enum InterfaceCounters {
    /// The sum of transmitted packets over every interface but `lo`; nil when no line parses.
    /// Lines: `NAME: rx-bytes rx-packets (6 more rx) tx-bytes tx-packets ...`.
    static func transmittedPackets(_ text: ArraySlice<UInt8>) -> UInt64? {
        var total: UInt64?
        var lineStart = text.startIndex
        while lineStart < text.endIndex {
            let lineEnd = text[lineStart...].firstIndex(of: 0x0A) ?? text.endIndex
            let line = text[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            guard let colon = line.firstIndex(of: 0x3A) else { continue }
            let name = line[..<colon].drop { $0 == 0x20 }
            guard !name.isEmpty, !name.contains(0x7C), !name.elementsEqual("lo".utf8) else { continue }
            let numbers = line[(colon + 1)...].split(separator: 0x20)
            guard numbers.count >= 10, let packets = TCPConnection.decimal(numbers[9]) else { continue }
            total = (total ?? 0) &+ packets
        }
        return total
    }
}
