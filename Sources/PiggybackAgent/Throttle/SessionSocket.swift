import Foundation

#if canImport(Glibc)
import Glibc

/// Finds the descriptor of the session's TCP connection in this process, so the throttle can
/// read the kernel's round-trip time for it (TCP_INFO).
///
/// Why not the acknowledgements' round trip: the chunk loop stamps an acknowledgement when it
/// gets round to reading it, and it spends its time pacing, so application timing would add
/// the pacer's own waits to the "delay" it reacts to. The kernel stamps segments as they
/// arrive. The WebSocket client does not expose its channel, so the socket is found the way
/// `ss -p` finds it: the established connection to the server's port whose inode one of our
/// descriptors links to.
enum SessionSocket {
    /// The descriptor of our one established TCP connection to `remotePort`, or nil when there
    /// is none or more than one (then the caller falls back to acknowledgement timing).
    static func descriptor(remotePort: Int) async -> Int32? {
        guard let table = try? await TCPConnectionTable.open(namespace: nil), let connections = try? table.read() else { return nil }
        let inodes = Set(connections.filter { $0.state == TCPConnection.established && Int($0.remotePort) == remotePort }.map(\.inode))
        guard !inodes.isEmpty else { return nil }
        let found = TCPConnectionTable.ownSockets().filter { inodes.contains($0.inode) }
        return found.count == 1 ? found[0].descriptor : nil
    }
}
#endif
