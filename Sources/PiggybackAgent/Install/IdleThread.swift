import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs blocking install work (unpacking, copying) on its own thread at nice 19, so it neither
/// holds a Swift concurrency thread for minutes nor competes with the user's work for the CPU.
enum IdleThread {
    ///
    /// `strict` goes further (`IdlePriority`: SCHED_IDLE and the idle I/O class): the thread
    /// runs only when nothing else wants the CPU or the disk.
    static func run<T: Sendable>(name: String = "piggyback-install", strict: Bool = false, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // On Linux the nice value is per thread: this lowers only the worker.
                if strict {
                    try? IdlePriority.applyToCurrentThread()
                } else if let thread = currentThreadID() {
                    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(thread), 19)
                }
                continuation.resume(with: Result { try body() })
            }
            thread.name = name
            thread.start()
        }
    }

    /// The kernel's id of the calling thread (glibc's gettid, which Swift does not import).
    private static func currentThreadID() -> Int32? {
        typealias GetTID = @convention(c) () -> Int32
        guard let symbol = dlsym(nil, "gettid") else { return nil }
        return unsafeBitCast(symbol, to: GetTID.self)()
    }
}
