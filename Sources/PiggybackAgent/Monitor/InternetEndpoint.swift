#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IP address and port as the kernel reports them (network byte order), with the two
/// questions the monitor asks of it: is it another device, and how to print it.
struct InternetEndpoint: Sendable, Hashable {
    /// 4 bytes, or 16 for IPv6 (IPv4-mapped when dual-stack).
    var address: [UInt8]
    var port: UInt16

    /// The address in IPv4 form when it is IPv4 or IPv4-mapped IPv6.
    var ipv4: [UInt8]? {
        if address.count == 4 { return address }
        if address.count == 16, address.prefix(10).allSatisfy({ $0 == 0 }), address[10] == 0xFF, address[11] == 0xFF {
            return Array(address.suffix(4))
        }
        return nil
    }

    /// 127.0.0.0/8, ::1 or the unspecified address: not traffic to another device.
    var isLoopbackOrUnspecified: Bool {
        if let ipv4 { return ipv4[0] == 127 || ipv4.allSatisfy { $0 == 0 } }
        return address.dropLast().allSatisfy { $0 == 0 } && (address.last ?? 0) <= 1
    }

    /// `ADDR:PORT`, `[ADDR]:PORT` for IPv6 (RFC 5952 text); IPv4-mapped shown as IPv4.
    var description: String {
        if let ipv4 { return ipv4.map(String.init).joined(separator: ".") + ":\(port)" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = address.count == 16
            && address.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) } != nil
        let printed = ok ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        return "[\(printed)]:\(port)"
    }
}
