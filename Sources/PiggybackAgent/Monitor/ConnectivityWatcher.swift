#if os(Linux)
import Foundation
import Glibc
import Logging
import Synchronization

/// Watches the kernel's routing notifications on a dedicated thread and reports connectivity.
///
/// The thread sleeps in poll(2) on the subscribed netlink socket and an eventfd, so it wakes
/// only when the kernel announces a link, address or route change, or when stopped. After
/// each burst it dumps links, addresses and routes afresh and yields the verdict when it
/// differs from the last one (the first verdict is always yielded).
final class ConnectivityWatcher: Sendable {
    /// Verdicts: the initial one, then one per change. Ends when the watcher stops.
    let updates: AsyncStream<Connectivity>
    /// The watching thread's kernel id (for counting its wake-ups).
    let threadID: Int32
    private let wake: WakeSignal

    private init(updates: AsyncStream<Connectivity>, wake: WakeSignal, threadID: Int32) {
        self.updates = updates
        self.wake = wake
        self.threadID = threadID
    }

    /// Opens the sockets on a new thread (joined to `namespace` when given) and starts watching.
    static func start(namespace: String?, logger: Logger) async throws(MonitorError) -> ConnectivityWatcher {
        let wake = try WakeSignal()
        let (stream, continuation) = AsyncStream.makeStream(of: Connectivity.self, bufferingPolicy: .bufferingNewest(8))
        continuation.onTermination = { _ in wake.signal() }
        let ready: Result<Int32, MonitorError> = await withCheckedContinuation { started in
            let thread = Thread {
                Thread.current.name = "pb-netlink"  // set from inside: Linux names only the running thread
                // Signals go to other threads: a SIGCHLD here would be a wake-up for nothing.
                var all = sigset_t()
                sigfillset(&all)
                pthread_sigmask(SIG_BLOCK, &all, nil)
                let events: NetlinkRouteSocket, dumps: NetlinkRouteSocket
                do throws(MonitorError) {
                    // Subscribe before the first dump so that no change falls in between. The
                    // sockets keep the namespace; the thread returns to its own.
                    (events, dumps) = try NetworkNamespace.within(namespace) { () throws(MonitorError) in
                        (try NetlinkRouteSocket(groups: Netlink.routeGroups), try NetlinkRouteSocket(receiveTimeout: .seconds(5)))
                    }
                } catch {
                    wake.close()
                    continuation.finish()
                    started.resume(returning: .failure(error))
                    return
                }
                started.resume(returning: .success(currentThreadID()))
                watch(events: events, dumps: dumps, wake: wake, continuation: continuation, logger: logger)
                wake.close()
                continuation.finish()
            }
            thread.start()
        }
        return ConnectivityWatcher(updates: stream, wake: wake, threadID: try ready.get())
    }

    /// The calling thread's kernel id, from `/proc/thread-self` (Glibc's Swift overlay has
    /// no `gettid`); -1 when /proc is not mounted.
    private static func currentThreadID() -> Int32 {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return -1 }
        let link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)  // "PID/task/TID"
        return link.split(separator: "/").last.flatMap { Int32($0) } ?? -1
    }

    /// Wakes the thread so it closes its sockets and ends `updates`. Safe to call repeatedly.
    func stop() {
        wake.signal()
    }

    /// The thread's life: dump, yield on change, sleep in poll until the kernel says something.
    private static func watch(
        events: NetlinkRouteSocket, dumps: NetlinkRouteSocket, wake: WakeSignal,
        continuation: AsyncStream<Connectivity>.Continuation, logger: Logger
    ) {
        var last: Connectivity?
        var descriptors = [pollfd(fd: events.fd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: wake.fd, events: Int16(POLLIN), revents: 0)]
        while true {
            do {
                let verdict = try dumps.snapshot().connectivity
                if verdict != last {
                    last = verdict
                    continuation.yield(verdict)
                }
            } catch {
                logger.warning("cannot read the routing state; waiting for the next change", metadata: ["error": "\(error)"])
            }
            var changed = false
            while !changed {
                descriptors[0].revents = 0
                descriptors[1].revents = 0
                if poll(&descriptors, 2, -1) < 0 {
                    if errno == EINTR { continue }
                    logger.error("poll on the netlink socket failed; the monitor stops", metadata: ["errno": "\(errno)"])
                    return
                }
                if descriptors[1].revents != 0 { return }
                if descriptors[0].revents & Int16(POLLIN) != 0 {
                    let (count, overrun) = events.drain()
                    if overrun { logger.debug("netlink notifications overran; reading the state afresh") }
                    changed = count > 0 || overrun
                } else if descriptors[0].revents != 0 {
                    logger.error("the netlink socket failed; the monitor stops", metadata: ["revents": "\(descriptors[0].revents)"])
                    return
                }
            }
        }
    }
}

/// An eventfd that another thread writes to wake a poll(2); closed exactly once, and never
/// written after closing (the number could by then belong to another file).
final class WakeSignal: Sendable {
    let fd: Int32
    private let closed = Mutex(false)

    init() throws(MonitorError) {
        fd = try NetworkNamespace.eventFD()
    }

    func signal() {
        closed.withLock { closed in
            guard !closed else { return }
            var one: UInt64 = 1
            _ = write(fd, &one, MemoryLayout<UInt64>.size)
        }
    }

    /// Reads the counter so that poll(2) sleeps again.
    func consume() {
        closed.withLock { closed in
            guard !closed else { return }
            var count: UInt64 = 0
            _ = read(fd, &count, MemoryLayout<UInt64>.size)
        }
    }

    func close() {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            _ = Glibc.close(fd)
        }
    }

    deinit { close() }
}
#endif
