import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking work (a child process, a read from the terminal) on a thread of its own, so
/// it never holds a thread of Swift's small cooperative pool; cancelling the calling task
/// raises a flag the work polls between short waits.
///
/// The thread unblocks all signals first: it inherits the mask of the pool thread that
/// created it (libdispatch blocks most signals there) and so would a child it spawns
/// (Foundation's `Process` does not reset it) — a notify-send with SIGINT blocked could
/// not be told to withdraw its notification.
enum BlockingWork {
    /// Raised when the calling task is cancelled.
    final class Flag: Sendable {
        private let raised = Mutex(false)

        func raise() { raised.withLock { $0 = true } }

        var isRaised: Bool { raised.withLock { $0 } }
    }

    /// Runs `body` on a new thread and returns its result.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable (Flag) -> T) async -> T {
        let flag = Flag()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
                let thread = Thread {
                    var none = sigset_t()
                    sigemptyset(&none)
                    pthread_sigmask(SIG_SETMASK, &none, nil)
                    continuation.resume(returning: body(flag))
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            flag.raise()
        }
    }

    /// Milliseconds to wait in one `poll` before looking at the flag and the deadline again.
    static func pollSlice(until deadline: ContinuousClock.Instant, max: Duration = .milliseconds(100)) -> Int32 {
        let remaining = Swift.min(ContinuousClock.now.duration(to: deadline), max)
        guard remaining > .zero else { return 0 }
        return Int32(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
    }
}
