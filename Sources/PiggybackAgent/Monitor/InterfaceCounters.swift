/// Parses the kernel's TCP counters (/proc/net/snmp), where a new TCP connection first
/// shows: opening one, either way, moves ActiveOpens or PassiveOpens.
enum InterfaceCounters {
    /// ActiveOpens + PassiveOpens from /proc/net/snmp's `Tcp:` header and value lines.
    static func tcpOpens(_ text: ArraySlice<UInt8>) -> UInt64? {
        let lines = text.split(separator: 0x0A).filter { $0.starts(with: "Tcp:".utf8) }
        guard lines.count >= 2 else { return nil }
        let names = lines[0].split(separator: 0x20)
        let values = lines[1].split(separator: 0x20)
        guard names.count == values.count,
              let active = names.firstIndex(where: { $0.elementsEqual("ActiveOpens".utf8) }),
              let passive = names.firstIndex(where: { $0.elementsEqual("PassiveOpens".utf8) }),
              let a = TCPConnection.decimal(values[active]), let p = TCPConnection.decimal(values[passive])
        else { return nil }
        return a &+ p
    }
}
