#if os(Linux)
import Glibc

/// The kernel's TCP tables (/proc/net/tcp and tcp6) and TCP counters (/proc/net/snmp)
/// of one network namespace, kept open.
///
/// The files are opened once, from a thread that has joined the namespace
/// (`/proc/thread-self/net/...`), and re-read with pread(2) from offset 0: a /proc/net file
/// stays bound to the namespace it was opened in, so any thread may read it later. The
/// descriptors close when the table goes away.
///
/// Reading a TCP table is not cheap: the kernel walks its whole established-connection hash
/// (sized by memory, shared by all namespaces), some milliseconds each time. The interface
/// counters cost tens of microseconds, so the watcher reads the tables only after the
/// counters show that something was sent.
final class TCPConnectionTable: Sendable {
    private let descriptors: [Int32]
    private let counters: Int32
    /// Upper bound on one table's text, so a pathological table cannot eat the memory.
    static let maxTableSize = 16 << 20

    private init(descriptors: [Int32], counters: Int32) {
        self.descriptors = descriptors
        self.counters = counters
    }

    /// Opens the tables of `namespace` (nil: the agent's own). tcp6 may be missing (IPv6
    /// disabled); tcp may not.
    static func open(namespace: String?) async throws(MonitorError) -> TCPConnectionTable {
        try await NetworkNamespace.perform(in: namespace, name: "pb-procnet") { () throws(MonitorError) -> TCPConnectionTable in
            let tcp = Glibc.open("/proc/thread-self/net/tcp", O_RDONLY | O_CLOEXEC)
            guard tcp >= 0 else {
                throw .system(.procNet, "cannot open /proc/thread-self/net/tcp", errno: errno,
                              hint: "the foreign-traffic check needs /proc mounted")
            }
            let tcp6 = Glibc.open("/proc/thread-self/net/tcp6", O_RDONLY | O_CLOEXEC)
            let counters = Glibc.open("/proc/thread-self/net/snmp", O_RDONLY | O_CLOEXEC)
            return TCPConnectionTable(descriptors: tcp6 >= 0 ? [tcp, tcp6] : [tcp], counters: counters)
        }
    }

    deinit {
        for fd in descriptors { close(fd) }
        if counters >= 0 { close(counters) }
    }

    /// TCP connections opened so far (ActiveOpens + PassiveOpens of /proc/net/snmp, IPv4 and
    /// IPv6 together); nil when unreadable (then every poll reads the tables). Unchanged means
    /// no connection began, so the costly table read can be skipped; unlike packet counters it
    /// does not move for traffic on existing connections or neighbour discovery.
    func openedConnections() -> UInt64? {
        guard counters >= 0, let text = try? Self.contents(of: counters) else { return nil }
        return InterfaceCounters.tcpOpens(text[...])
    }

    /// All sockets in both tables, as they are now.
    func read() throws(MonitorError) -> [TCPConnection] {
        var connections: [TCPConnection] = []
        for fd in descriptors {
            connections += TCPConnection.parseTable(try Self.contents(of: fd)[...])
        }
        return connections
    }

    /// The whole text of a /proc file, from offset 0 (each read is a fresh snapshot).
    private static func contents(of fd: Int32) throws(MonitorError) -> [UInt8] {
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while text.count < maxTableSize {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(text.count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .system(.procNet, "cannot read the TCP table", errno: errno, hint: "check that /proc is mounted")
            }
            if count == 0 { break }
            text.append(contentsOf: chunk[..<count])
        }
        return text
    }

    /// Inodes of the sockets this process holds open, from the `socket:[INODE]` links in
    /// /proc/self/fd.
    static func ownSocketInodes() -> Set<UInt64> {
        Set(ownSockets().map(\.inode))
    }

    /// This process's socket descriptors and their inodes.
    static func ownSockets() -> [(descriptor: Int32, inode: UInt64)] {
        var sockets: [(descriptor: Int32, inode: UInt64)] = []
        guard let directory = opendir("/proc/self/fd") else { return sockets }
        defer { closedir(directory) }
        var target = [CChar](repeating: 0, count: 64)
        let prefix = Array("socket:[".utf8)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let descriptor = Int32(name) else { continue }
            let length = readlink("/proc/self/fd/" + name, &target, target.count - 1)
            guard length > prefix.count + 1 else { continue }
            let bytes = target[..<length].map { UInt8(bitPattern: $0) }
            guard bytes.starts(with: prefix), bytes.last == 0x5D,
                  let inode = TCPConnection.decimal(bytes[prefix.count..<(length - 1)])
            else { continue }
            sockets.append((descriptor, inode))
        }
        return sockets
    }
}
#endif
