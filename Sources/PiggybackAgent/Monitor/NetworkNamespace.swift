#if os(Linux)
import Foundation
import Glibc

/// Joining a network namespace for one thread, and the calls Swift's Glibc does not export.
///
/// A thread's network namespace can be switched with setns(2); sockets and /proc/net files
/// opened afterwards belong to that namespace for their whole life, whichever thread uses
/// them later. The monitor therefore opens its descriptors on a thread of its own that has
/// joined the namespace, and never switches a thread of the cooperative pool.
enum NetworkNamespace {
    private typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
    private typealias EventFD = @convention(c) (UInt32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET

    /// Moves the calling thread into the namespace at `path`. Call only on a thread you own.
    static func enter(_ path: String) throws(MonitorError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw .system(.namespace, "cannot open network namespace \(path)", errno: errno,
                          hint: "check that the namespace exists (ip netns list)")
        }
        defer { close(fd) }
        guard let symbol = dlsym(nil, "setns") else {
            throw MonitorError(.namespace, "this C library has no setns(2); run without a network namespace")
        }
        let setns = unsafeBitCast(symbol, to: SetNamespace.self)
        guard setns(fd, cloneNewNet) == 0 else {
            throw .system(.namespace, "cannot join network namespace \(path)", errno: errno,
                          hint: "joining a namespace needs CAP_SYS_ADMIN (run as root)")
        }
    }

    /// Runs `body` inside the namespace at `path` (nil: where the thread is), then moves the
    /// thread back to where it was.
    ///
    /// Why back: threads a thread creates inherit its namespace, and libdispatch creates its
    /// worker threads from whichever thread asks for work (resuming a continuation, yielding
    /// to a stream). A thread left in a namespace would plant pool threads there, and every
    /// socket later opened on them (an HTTP client, a session) would land in the wrong
    /// network. Descriptors opened inside keep their namespace after the switch back.
    static func within<T>(_ path: String?, _ body: () throws(MonitorError) -> T) throws(MonitorError) -> T {
        guard let path else { return try body() }
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else {
            throw .system(.namespace, "cannot open this thread's network namespace", errno: errno, hint: "the monitor needs /proc mounted")
        }
        defer { close(original) }
        try enter(path)
        let result: Result<T, MonitorError> = Result { () throws(MonitorError) -> T in try body() }
        let setns = unsafeBitCast(dlsym(nil, "setns"), to: SetNamespace.self)
        guard setns(original, cloneNewNet) == 0 else {
            // Do not let this thread go on (and spawn threads) in the wrong namespace.
            fatalError("cannot return to the original network namespace (errno \(errno)); the process cannot continue safely")
        }
        return try result.get()
    }

    /// Runs `body` on a new thread that has joined `path` (or on a new thread as it is, for
    /// nil), and returns its result. The thread ends with `body`, back in its own namespace.
    static func perform<T: Sendable>(
        in path: String?, name: String = "pb-netns",
        _ body: @escaping @Sendable () throws(MonitorError) -> T
    ) async throws(MonitorError) -> T {
        let result: Result<T, MonitorError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                Thread.current.name = name
                continuation.resume(returning: Result { () throws(MonitorError) -> T in
                    try within(path, body)
                })
            }
            thread.start()
        }
        return try result.get()
    }

    /// An eventfd (EFD_CLOEXEC), used to wake a thread blocked in poll(2).
    static func eventFD() throws(MonitorError) -> Int32 {
        guard let symbol = dlsym(nil, "eventfd") else {
            throw MonitorError(.netlink, "this C library has no eventfd(2)")
        }
        let make = unsafeBitCast(symbol, to: EventFD.self)
        let fd = make(0, O_CLOEXEC)
        guard fd >= 0 else {
            throw .system(.netlink, "cannot create an eventfd", errno: errno, hint: "check the process's file descriptor limit")
        }
        return fd
    }
}
#endif
