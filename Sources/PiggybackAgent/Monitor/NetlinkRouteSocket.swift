#if os(Linux)
import Glibc
import Synchronization

/// A NETLINK_ROUTE socket: subscribed to link, address and route changes, or used for dumps.
///
/// Created in whichever network namespace the calling thread is in. All calls block (a dump
/// waits at most `receiveTimeout`), so use it from a thread of its own, never from the
/// cooperative pool. The descriptor is closed when the object goes away.
final class NetlinkRouteSocket: Sendable {
    /// The socket's descriptor, for poll(2).
    let fd: Int32
    private let sequence = Mutex<UInt32>(0)

    /// Opens and binds a socket; `groups` (RTMGRP_* bits) subscribes it to notifications.
    init(groups: UInt32 = 0, receiveTimeout: Duration? = nil) throws(MonitorError) {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else {
            throw .system(.netlink, "cannot create a NETLINK_ROUTE socket", errno: errno,
                          hint: "the monitor needs a Linux kernel with netlink")
        }
        var address: [UInt8] = []
        address.appendNative(UInt16(AF_NETLINK))
        address.appendNative(UInt16(0))
        address.appendNative(UInt32(0))  // nl_pid: let the kernel pick
        address.appendNative(groups)
        let bound = address.withUnsafeBytes {
            bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        guard bound == 0 else {
            let error = MonitorError.system(.netlink, "cannot bind the netlink socket to groups \(groups)", errno: errno,
                                            hint: "check that the kernel allows route notifications here")
            close(fd)
            throw error
        }
        // Room for a burst of notifications; ENOBUFS is still handled by a fresh dump.
        var size: Int32 = 1 << 20
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        if let receiveTimeout {
            let (seconds, attoseconds) = receiveTimeout.components
            var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit { close(fd) }

    /// Asks the kernel for all objects of one kind (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE)
    /// and returns the replies; retried when the kernel flags the dump as interrupted.
    func dump(_ type: UInt16) throws(MonitorError) -> [NetlinkMessage] {
        let bodySize = switch type {
        case Netlink.getLink: NetworkSnapshot.linkHeaderSize
        case Netlink.getAddress: NetworkSnapshot.addressHeaderSize
        default: NetworkSnapshot.routeHeaderSize
        }
        for _ in 0..<3 {
            let (messages, interrupted) = try dumpOnce(type, body: [UInt8](repeating: 0, count: bodySize))
            if !interrupted { return messages }
        }
        throw MonitorError(.netlink, "the kernel kept interrupting the netlink dump (type \(type)); the network is changing too fast to read, try again")
    }

    private func dumpOnce(_ type: UInt16, body: [UInt8]) throws(MonitorError) -> ([NetlinkMessage], Bool) {
        let sequence = sequence.withLock { value in
            value &+= 1
            return value
        }
        let request = NetlinkMessage.request(type: type, flags: Netlink.request | Netlink.dump, sequence: sequence, body: body)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else {
            throw .system(.netlink, "cannot send a netlink dump request", errno: errno, hint: "check the netlink socket")
        }
        var replies: [NetlinkMessage] = []
        var interrupted = false
        while true {
            let datagram = try receive()
            for message in NetlinkMessage.parse(datagram[...]) where message.sequence == sequence {
                if message.flags & Netlink.dumpInterrupted != 0 { interrupted = true }
                switch message.type {
                case Netlink.done:
                    return (replies, interrupted)
                case Netlink.error:
                    let code = -(message.errorCode ?? -EIO)
                    if code == 0 { continue }
                    throw .system(.netlink, "the kernel refused a netlink dump (type \(type))", errno: code,
                                  hint: "check that this kernel supports it")
                default:
                    replies.append(message)
                }
            }
        }
    }

    /// One whole datagram, blocking (up to the receive timeout); sized by peeking first.
    private func receive() throws(MonitorError) -> [UInt8] {
        var capacity = 32 * 1024
        while true {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let peeked = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_PEEK | MSG_TRUNC)) }
            if peeked < 0 {
                if errno == EINTR { continue }
                if errno == ENOBUFS { continue }  // notifications lost on a dump socket: nothing to keep
                throw .system(.netlink, "no netlink dump reply", errno: errno, hint: "the kernel did not answer in time; try again")
            }
            if peeked > capacity {
                capacity = peeked
                continue
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(.netlink, "cannot read a netlink dump reply", errno: errno, hint: "try again")
            }
            buffer.removeLast(buffer.count - count)
            return buffer
        }
    }

    /// Reads and discards every queued notification without blocking; tells how many there
    /// were and whether the kernel dropped some (ENOBUFS). Their content does not matter:
    /// any change leads to a fresh dump.
    func drain() -> (count: Int, overrun: Bool) {
        var buffer = [UInt8](repeating: 0, count: 8 * 1024)
        var count = 0
        var overrun = false
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_TRUNC)) }
            if received >= 0 {
                count += 1
            } else if errno == ENOBUFS {
                overrun = true
            } else if errno != EINTR {
                return (count, overrun)
            }
        }
    }

    /// Dumps links, addresses and routes into a snapshot.
    func snapshot() throws(MonitorError) -> NetworkSnapshot {
        var snapshot = NetworkSnapshot()
        for type in [Netlink.getLink, Netlink.getAddress, Netlink.getRoute] {
            for message in try dump(type) { snapshot.add(message) }
        }
        return snapshot
    }
}
#endif
