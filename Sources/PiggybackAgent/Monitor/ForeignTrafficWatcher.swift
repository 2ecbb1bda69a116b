#if os(Linux)
import Glibc
import Logging

/// While running (the monitor runs it only while online), reads the TCP tables every
/// `interval` and reports a connection that another process has opened since the last look.
///
/// Each tick first reads the kernel's TCP open counters; the TCP tables are read only when a
/// connection was opened since the last tick. The first read is the baseline: connections that already
/// exist when the terminal comes online do not count. A connection counts when it is connecting or connected (SYN_SENT,
/// ESTABLISHED), goes to a non-loopback address, and its socket is not held by this process
/// (nor by this user, with `ignoreOwnUser`). To tell our sockets from others', the check
/// reads the table, then this process's descriptors, then the table again: a socket still
/// there after our descriptors were listed, and not among them, is not ours.
struct ForeignTrafficWatcher: Sendable {
    let table: TCPConnectionTable
    let interval: Duration
    let ignoredUser: UInt32?
    let logger: Logger

    /// Polls until the task is cancelled. `onPoll` runs on each tick (true when the TCP
    /// tables are read on it), `onForeign` with the first new foreign connection of a read
    /// (at most one per interval).
    func run(
        onPoll: @Sendable (Bool) async -> Void,
        onForeign: @Sendable (TCPConnection) async -> Void
    ) async {
        var sent = table.openedConnections()
        var known = candidates().map { Set($0.map(\.inode)) }  // nil until a read succeeds
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            // No TCP connection opened since the last look (the kernel's ActiveOpens and
            // PassiveOpens did not move), so the costly table read is skipped.
            let nowSent = table.openedConnections()
            let quiet = nowSent != nil && nowSent == sent && known != nil
            sent = nowSent
            await onPoll(!quiet)
            guard !quiet, let current = candidates() else { continue }
            let fresh = known.map { known in current.filter { !known.contains($0.inode) } } ?? []
            known = Set(current.map(\.inode))
            guard !fresh.isEmpty else { continue }
            let ours = TCPConnectionTable.ownSocketInodes()
            let stillThere = Set((candidates() ?? []).map(\.inode))
            let foreign = fresh.filter { !ours.contains($0.inode) && stillThere.contains($0.inode) }
            logger.trace("new TCP connections", metadata: ["new": "\(fresh.count)", "foreign": "\(foreign.count)"])
            if let first = foreign.first {
                await onForeign(first)
            }
        }
    }

    /// Active, non-loopback connections not excluded by user; nil when the table is unreadable.
    func candidates() -> [TCPConnection]? {
        do {
            return try table.read().filter {
                $0.isActive && $0.inode != 0 && !$0.isLoopbackRemote && $0.uid != ignoredUser
            }
        } catch {
            logger.warning("cannot read the TCP tables; foreign traffic goes unnoticed", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
#endif
