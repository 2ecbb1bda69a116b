#if os(Linux)
import Foundation
import Glibc
import Logging
import Synchronization

/// Notices other programs' communication, on a thread of its own, and reports it.
///
/// Two sources, both read by one thread that sleeps in poll(2):
/// - the kernel's **socket-destroy announcements** (``SocketDestroySocket``): every TCP or
///   connected UDP socket to another device reports its end, however short it was; the
///   thread wakes only for those (a BPF filter in the kernel drops loopback and unconnected
///   ones).
/// - a **tick** every `interval` while online: one pread of the TCP open counters, and a
///   read of the TCP tables only when they moved (``ForeignConnectionScan``), so that a
///   connection still open is noticed within `interval` of its start.
///
/// Offline the thread neither ticks nor listens: it sleeps until told the terminal is online
/// again (announcements queued meanwhile are discarded). When sock_diag is not available the
/// ticks alone remain, and short connections go unnoticed (logged once, at start).
final class ForeignTrafficWatcher: Sendable {
    /// Another program's communication: where it went and how it was seen.
    struct Sighting: Sendable {
        enum Source: String, Sendable { case opened, ended }
        var remote: String
        var source: Source
    }

    /// Sightings, at most one per `interval`. Ends when the watcher stops.
    let sightings: AsyncStream<Sighting>
    /// The thread's kernel id, for counting its wake-ups.
    let threadID: Int32
    /// Whether destroy announcements are read ("sock_diag") or only ticks ("tcp-table").
    let source: String
    let shared: Shared

    /// What the thread and its owner share: whether to watch, and what the thread counted.
    final class Shared: Sendable {
        struct Control {
            var online = false
            var stopped = false
        }

        let control = Mutex(Control())
        let wake: WakeSignal
        /// Ticks so far, those that read the TCP tables, and destroy announcements of
        /// connections to other devices received while online.
        let ticks = Atomic<Int>(0)
        let scans = Atomic<Int>(0)
        let ends = Atomic<Int>(0)

        init() throws(MonitorError) {
            wake = try WakeSignal()
        }
    }

    private init(sightings: AsyncStream<Sighting>, threadID: Int32, source: String, shared: Shared) {
        self.sightings = sightings
        self.threadID = threadID
        self.source = source
        self.shared = shared
    }

    /// What the thread owns: handed over once, used by that thread alone.
    struct Resources: @unchecked Sendable {
        var destroy: SocketDestroySocket?
        var scan: ForeignConnectionScan
    }

    /// Opens the TCP tables and the destroy socket in `namespace` and starts the thread,
    /// offline. Throws only when the TCP tables cannot be opened.
    static func start(
        namespace: String?, interval: Duration, udp: Bool, ignoredUser: UInt32?,
        ownTraffic: OwnTraffic, logger: Logger
    ) async throws(MonitorError) -> ForeignTrafficWatcher {
        let shared = try Shared()
        let table = try await TCPConnectionTable.open(namespace: namespace)
        let (stream, continuation) = AsyncStream.makeStream(of: Sighting.self, bufferingPolicy: .bufferingNewest(8))
        continuation.onTermination = { _ in
            shared.control.withLock { $0.stopped = true }
            shared.wake.signal()
        }
        let (threadID, source): (Int32, String) = await withCheckedContinuation { started in
            let thread = Thread {
                Thread.current.name = "pb-traffic"  // set from inside: Linux names only the running thread
                // Signals go to other threads: a SIGCHLD here would be a wake-up for nothing.
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                var resources = Resources(destroy: nil, scan: ForeignConnectionScan(table: table, ignoredUser: ignoredUser, logger: logger))
                do throws(MonitorError) {
                    resources.destroy = try NetworkNamespace.within(namespace) { () throws(MonitorError) in
                        try SocketDestroySocket(udp: udp)
                    }
                } catch {
                    logger.warning("short connections go unnoticed: no socket-destroy announcements", metadata: ["error": "\(error)"])
                }
                started.resume(returning: (currentThreadID(), resources.destroy == nil ? "tcp-table" : "sock_diag"))
                watch(&resources, shared: shared, interval: interval, ownTraffic: ownTraffic, continuation: continuation, logger: logger)
                shared.wake.close()
                continuation.finish()
            }
            thread.start()
        }
        return ForeignTrafficWatcher(sightings: stream, threadID: threadID, source: source, shared: shared)
    }

    /// Tells the thread whether the terminal is online: ticks and announcements count only then.
    func setOnline(_ online: Bool) {
        let changed = shared.control.withLock { control in
            defer { control.online = online }
            return control.online != online
        }
        if changed { shared.wake.signal() }
    }

    /// Ends the thread and `sightings`. Safe to call repeatedly.
    func stop() {
        shared.control.withLock { $0.stopped = true }
        shared.wake.signal()
    }
}

extension ForeignTrafficWatcher {
    /// The calling thread's kernel id, from `/proc/thread-self`; -1 when /proc is not mounted.
    static func currentThreadID() -> Int32 {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return -1 }
        let link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)  // "PID/task/TID"
        return link.split(separator: "/").last.flatMap { Int32($0) } ?? -1
    }
}
#endif
