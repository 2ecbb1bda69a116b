#if os(Linux)
import Glibc

/// A NETLINK_SOCK_DIAG socket subscribed to the kernel's socket-destroy announcements for
/// TCP (and optionally UDP) over IPv4 and IPv6, in the network namespace it was created in.
///
/// Subscribing needs no privilege (the sock_diag family allows unprivileged listeners). A
/// classic BPF filter attached to the socket drops, inside the kernel, every announcement of a
/// socket that was never connected or went to loopback: the watching thread is not woken for
/// the local chatter of databases and desktop buses, and costs nothing offline.
final class SocketDestroySocket: Sendable {
    /// The socket's descriptor, for poll(2).
    let fd: Int32

    static let netlinkSockDiag: Int32 = 4
    /// SKNLGRP_INET_TCP_DESTROY, _INET_UDP_DESTROY, _INET6_TCP_DESTROY, _INET6_UDP_DESTROY as
    /// the bit mask of sockaddr_nl.nl_groups.
    static let tcpGroups: UInt32 = 0x1 | 0x4
    static let udpGroups: UInt32 = 0x2 | 0x8

    /// Opens, filters and subscribes; `udp` adds the UDP groups.
    init(udp: Bool) throws(MonitorError) {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Self.netlinkSockDiag)
        guard fd >= 0 else {
            throw .system(.netlink, "cannot create a NETLINK_SOCK_DIAG socket", errno: errno,
                          hint: "short connections go unnoticed without the kernel's sock_diag")
        }
        do throws(MonitorError) {
            try attachFilter()
            var size: Int32 = 1 << 20
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            var address: [UInt8] = []
            address.appendNative(UInt16(AF_NETLINK))
            address.appendNative(UInt16(0))
            address.appendNative(UInt32(0))
            address.appendNative(Self.tcpGroups | (udp ? Self.udpGroups : 0))
            let bound = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
            }
            guard bound == 0 else {
                throw MonitorError.system(.netlink, "cannot subscribe to socket-destroy announcements", errno: errno,
                                          hint: "the kernel needs inet_diag (CONFIG_INET_DIAG); short connections go unnoticed")
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// SO_ATTACH_FILTER from asm-generic/socket.h (Swift's Glibc does not export it).
    static let attachFilterOption: Int32 = 26

    private func attachFilter() throws(MonitorError) {
        // struct sock_filter is {u16 code; u8 jt; u8 jf; u32 k}: exactly Instruction's layout,
        // written out byte by byte so nothing depends on Swift's struct layout.
        var instructions: [UInt8] = []
        for instruction in SocketDestroyFilter.program {
            instructions.appendNative(instruction.code)
            instructions.appendNative(instruction.jt)
            instructions.appendNative(instruction.jf)
            instructions.appendNative(instruction.k)
        }
        let attached = instructions.withUnsafeMutableBytes { filter in
            // struct sock_fprog is {unsigned short len; struct sock_filter *filter}: the pointer
            // at offset 8 on 64-bit Linux.
            var program: [UInt8] = []
            program.appendNative(UInt16(SocketDestroyFilter.program.count))
            program += [0, 0, 0, 0, 0, 0]
            program.appendNative(UInt(bitPattern: filter.baseAddress))
            return program.withUnsafeBytes {
                setsockopt(fd, SOL_SOCKET, Self.attachFilterOption, $0.baseAddress, socklen_t($0.count))
            }
        }
        guard attached == 0 else {
            throw .system(.netlink, "cannot attach the socket-destroy filter", errno: errno,
                          hint: "the kernel refused a classic BPF socket filter")
        }
    }

    /// Reads every queued announcement without blocking. Only messages sent by the kernel
    /// (sender port 0) are read; anything else on the socket is dropped. `overrun` tells that
    /// the kernel dropped announcements because the queue was full (a storm of closes).
    func drain() -> (ends: [SocketEnd], received: Int, overrun: Bool) {
        var buffer = [UInt8](repeating: 0, count: 8 * 1024)
        var ends: [SocketEnd] = []
        var received = 0
        var overrun = false
        while true {
            // struct sockaddr_nl: {u16 family; u16 pad; u32 nl_pid; u32 nl_groups}. The sender's
            // port is set by the kernel and cannot be forged: 0 is the kernel itself.
            var sender = [UInt8](repeating: 0xFF, count: 12)
            var senderSize = socklen_t(sender.count)
            let count = buffer.withUnsafeMutableBytes { raw in
                sender.withUnsafeMutableBytes {
                    recvfrom(fd, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT),
                             $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &senderSize)
                }
            }
            if count > 0 {
                received += 1
                guard sender[...].u32(at: 4) == 0, count <= buffer.count else { continue }
                for message in NetlinkMessage.parse(buffer[..<count]) where message.portID == 0 {
                    if let end = SocketEnd(message) { ends.append(end) }
                }
            } else if count < 0 && errno == ENOBUFS {
                overrun = true
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return (ends, received, overrun)
            }
        }
    }
}
#endif
