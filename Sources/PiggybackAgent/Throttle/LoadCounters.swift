/// Parsers for the kernel files the load sampler reads: /proc/stat, /proc/self/stat,
/// /proc/pressure/cpu, /proc/net/dev, /proc/net/route and /proc/net/ipv6_route.
///
/// Pure functions over the files' text, so the tests feed them made-up contents. Each
/// returns nil (or nothing) for text it does not understand rather than a wrong number.
enum LoadCounters {
    /// CPU time of the whole machine from the `cpu ` line of /proc/stat, in clock ticks:
    /// busy (everything but idle and iowait) and total. Guest time is already in user/nice.
    static func machineTicks(_ text: String) -> (busy: UInt64, total: UInt64)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let values = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard values.count >= 5 else { return nil }  // user nice system idle iowait at least
        let total = values.reduce(0, &+)
        let idle = values[3] &+ values[4]
        return (total &- idle, total)
    }

    /// This process's CPU time (utime + stime) from /proc/self/stat, in clock ticks. The
    /// command name may hold spaces and parentheses, so fields are counted after the last ')'.
    static func processTicks(_ text: String) -> UInt64? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ')': state is field 3, utime field 14, stime field 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = UInt64(fields[11]), let system = UInt64(fields[12]) else { return nil }
        return user &+ system
    }

    /// The `some` line of /proc/pressure/cpu: avg10 (percent) and total stall (µs).
    static func cpuPressure(_ text: String) -> (avg10: Double, totalMicroseconds: UInt64)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("some ") }) else { return nil }
        var avg10: Double?
        var total: UInt64?
        for field in line.split(separator: " ") {
            if field.hasPrefix("avg10=") { avg10 = Double(field.dropFirst(6)) }
            if field.hasPrefix("total=") { total = UInt64(field.dropFirst(6)) }
        }
        guard let avg10, let total else { return nil }
        return (avg10, total)
    }

    /// Received + sent bytes of each interface in /proc/net/dev, by name.
    static func interfaceBytes(_ text: String) -> [String: UInt64] {
        var result: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].split(separator: " ").last ?? ""
            let fields = line[line.index(after: colon)...].split(separator: " ")
            // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit bytes.
            guard !name.isEmpty, fields.count >= 9, let rx = UInt64(fields[0]), let tx = UInt64(fields[8]) else { continue }
            result[String(name)] = rx &+ tx
        }
        return result
    }

    static let routeUp: UInt32 = 0x0001      // RTF_UP
    static let routeReject: UInt32 = 0x0200  // RTF_REJECT (unreachable, prohibit, blackhole)

    /// Interfaces holding a usable default route in /proc/net/route (IPv4: destination and
    /// mask 0) and /proc/net/ipv6_route (destination ::/0), loopback excluded, in file order.
    static func defaultRouteInterfaces(ipv4 route: String?, ipv6 route6: String?) -> [String] {
        var names: [String] = []
        func add(_ name: Substring, flags: UInt32?) {
            guard let flags, flags & routeUp != 0, flags & routeReject == 0, name != "lo",
                  !names.contains(String(name)) else { return }
            names.append(String(name))
        }
        for line in (route ?? "").split(separator: "\n").dropFirst() {
            // Iface Destination Gateway Flags RefCnt Use Metric Mask ...
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 8, f[1] == "00000000", f[7] == "00000000" else { continue }
            add(f[0], flags: UInt32(f[3], radix: 16))
        }
        for line in (route6 ?? "").split(separator: "\n") {
            // dest plen src splen nexthop metric refcnt use flags iface
            let f = line.split(separator: " ")
            guard f.count >= 10, f[1] == "00", f[0].allSatisfy({ $0 == "0" }) else { continue }
            add(f[9], flags: UInt32(f[8], radix: 16))
        }
        return names
    }
}
