#if canImport(Glibc)
import Glibc
#endif

/// The kernel's view of one TCP connection (`getsockopt(IPPROTO_TCP, TCP_INFO)`): its smoothed
/// round-trip time, the minimum RTT it has seen, and the payload bytes that crossed it.
///
/// The RTT is a delay signal that needs no cooperation from the server, and the byte counts
/// let the sampler subtract exactly our traffic from the interface counters. Glibc's
/// `struct tcp_info` stops before the newer fields, so the kernel's layout
/// (include/uapi/linux/tcp.h) is read from the raw bytes; a field the running kernel does not
/// fill is nil.
public struct TCPInfo: Sendable, Equatable {
    /// Smoothed round-trip time (`tcpi_rtt`).
    public var rtt: Duration
    /// Its mean deviation (`tcpi_rttvar`).
    public var rttVariance: Duration
    /// The smallest RTT seen on the connection (`tcpi_min_rtt`, Linux 4.6+).
    public var minimumRTT: Duration?
    /// Payload bytes the peer acknowledged, plus one for the SYN (`tcpi_bytes_acked`, Linux 4.1+).
    public var bytesAcknowledged: UInt64?
    /// Payload bytes received (`tcpi_bytes_received`, Linux 4.1+).
    public var bytesReceived: UInt64?
    /// Payload bytes sent, retransmissions included (`tcpi_bytes_sent`, Linux 4.19+).
    public var bytesSent: UInt64?
    /// Segments retransmitted over the connection's life (`tcpi_total_retrans`).
    public var totalRetransmissions: UInt32

    /// Byte offsets of the fields in the kernel's struct tcp_info.
    enum Offset {
        static let rtt = 68, rttVariance = 72, totalRetransmissions = 100
        static let bytesAcknowledged = 120, bytesReceived = 128, minimumRTT = 148, bytesSent = 200
    }

    /// Parses the bytes the kernel returned; nil when even the basic fields are missing.
    public init?(raw: UnsafeRawBufferPointer) {
        func u32(_ offset: Int) -> UInt32? {
            offset + 4 <= raw.count ? raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self) : nil
        }
        func u64(_ offset: Int) -> UInt64? {
            offset + 8 <= raw.count ? raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) : nil
        }
        guard let rtt = u32(Offset.rtt), let variance = u32(Offset.rttVariance),
              let retransmissions = u32(Offset.totalRetransmissions) else { return nil }
        self.rtt = .microseconds(rtt)
        self.rttVariance = .microseconds(variance)
        self.totalRetransmissions = retransmissions
        // The kernel reports ~0U before a min RTT sample exists.
        self.minimumRTT = u32(Offset.minimumRTT).flatMap { $0 == UInt32.max ? nil : .microseconds($0) }
        self.bytesAcknowledged = u64(Offset.bytesAcknowledged)
        self.bytesReceived = u64(Offset.bytesReceived)
        self.bytesSent = u64(Offset.bytesSent)
    }

    /// Reads TCP_INFO of the connected TCP socket `descriptor`. Needs no privileges.
    public init(descriptor: Int32) throws(ThrottleError) {
        var buffer = [UInt8](repeating: 0, count: 256)
        var length = socklen_t(buffer.count)
        let result = buffer.withUnsafeMutableBytes {
            getsockopt(descriptor, Int32(IPPROTO_TCP), TCP_INFO, $0.baseAddress, &length)
        }
        guard result == 0 else {
            throw .system(.tcpInfo, "cannot read TCP_INFO of socket \(descriptor)", errno: errno,
                          hint: "pass a connected TCP socket, or measure the delay from acknowledgements instead")
        }
        let parsed = buffer.withUnsafeBytes { TCPInfo(raw: UnsafeRawBufferPointer(rebasing: $0.prefix(Int(length)))) }
        guard let parsed else {
            throw ThrottleError(.tcpInfo, "TCP_INFO of socket \(descriptor) is only \(length) bytes; this kernel is too old for the delay signal")
        }
        self = parsed
    }

    /// Payload bytes that crossed the connection either way: what the sampler subtracts from
    /// the interface counters. Uses bytes sent where the kernel has it, else bytes acknowledged.
    public var payloadBytes: UInt64? {
        guard let received = bytesReceived, let sent = bytesSent ?? bytesAcknowledged else { return nil }
        return received &+ sent
    }
}
