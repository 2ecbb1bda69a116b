#if os(Linux)
import Glibc
import Logging

/// Finds TCP connections that another process opened since the last look, by reading the
/// TCP tables: how the monitor notices a connection while it is still open (long downloads,
/// a sync that keeps its socket), which no destroy announcement reports until it ends.
///
/// ``baseline()`` marks what exists when the terminal comes online: those do not count.
/// A connection counts when it is connecting or connected (SYN_SENT, ESTABLISHED), goes to a
/// non-loopback address, and its socket is not held by this process (nor by this user, with
/// `ignoredUser`). To tell our sockets from others', a scan reads the table, then this
/// process's descriptors, then the table again: a socket still there after our descriptors
/// were listed, and not among them, is not ours.
///
/// Not thread-safe; the watcher thread owns it.
struct ForeignConnectionScan {
    let table: TCPConnectionTable
    let ignoredUser: UInt32?
    let logger: Logger
    /// Inodes seen at the last read; nil until a read succeeds.
    private var known: Set<UInt64>?
    /// Connections already reported, by (local port, remote): their destroy announcement is
    /// the same communication and is not reported twice. Bounded; cleared when full.
    private var reported: Set<ConnectionKey> = []
    static let reportedLimit = 1024

    struct ConnectionKey: Hashable {
        var localPort: UInt16
        var remote: InternetEndpoint
    }

    init(table: TCPConnectionTable, ignoredUser: UInt32?, logger: Logger) {
        self.table = table
        self.ignoredUser = ignoredUser
        self.logger = logger
    }

    /// True once a read has succeeded: until then every tick must read the tables.
    var hasBaseline: Bool { known != nil }

    /// Takes what is open now as already seen.
    mutating func baseline() {
        known = candidates().map { Set($0.map(\.inode)) }
        reported.removeAll()
    }

    /// The first connection opened since the last read by another process, if any.
    mutating func scan() -> TCPConnection? {
        guard let current = candidates() else { return nil }
        let fresh = known.map { known in current.filter { !known.contains($0.inode) } } ?? []
        known = Set(current.map(\.inode))
        guard !fresh.isEmpty else { return nil }
        let ours = TCPConnectionTable.ownSocketInodes()
        let stillThere = Set((candidates() ?? []).map(\.inode))
        let foreign = fresh.filter { !ours.contains($0.inode) && stillThere.contains($0.inode) }
        logger.trace("new TCP connections", metadata: ["new": "\(fresh.count)", "foreign": "\(foreign.count)"])
        if reported.count + foreign.count > Self.reportedLimit { reported.removeAll() }
        for connection in foreign {
            reported.insert(ConnectionKey(localPort: connection.localPort, remote: connection.remoteEndpoint))
        }
        return foreign.first
    }

    /// Whether `end` is a connection a scan has already reported (and forgets it).
    mutating func alreadyReported(_ end: SocketEnd) -> Bool {
        guard end.transport == .tcp else { return false }
        return reported.remove(ConnectionKey(localPort: end.localPort, remote: end.remote)) != nil
    }

    /// Active, non-loopback connections not excluded by user; nil when the table is unreadable.
    private func candidates() -> [TCPConnection]? {
        do {
            return try table.read().filter {
                $0.isActive && $0.inode != 0 && !$0.isLoopbackRemote && $0.uid != ignoredUser
            }
        } catch {
            logger.warning("cannot read the TCP tables; open connections go unnoticed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
#endif
