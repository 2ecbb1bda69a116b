import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starts child processes, riding out a busy executable.
///
/// An executable written a moment ago (a package's install script, a site's position
/// script) can be refused with ETXTBSY: a child that another thread forked while the
/// file was open for writing still holds that descriptor until it execs — Foundation's
/// `Process` decides which descriptors its child closes before it forks, so one opened
/// in between goes along. The holder lets go within moments, so such a start is tried
/// again for a while instead of failing the install or the position.
enum ChildLaunch {
    /// How long a busy executable is waited for by default.
    static let busyWait: Duration = .seconds(5)

    /// Runs `attempt` (which builds a fresh `Process` and its pipes and runs it) until it
    /// succeeds, fails for another reason, or the executable stayed busy for `busyWait`;
    /// blocks the calling thread between tries (for callers on threads of their own).
    static func start<Child>(busyWait: Duration = busyWait, _ attempt: () throws -> Child) throws -> Child {
        var retry = Retry(busyWait)
        while true {
            do {
                return try attempt()
            } catch where retry.again(after: error) {
                let (seconds, attoseconds) = retry.pause.components
                usleep(useconds_t(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
            }
        }
    }

    /// `start` for callers in a task: waits between tries without holding a thread.
    static func start<Child>(busyWait: Duration = busyWait, _ attempt: () throws -> Child) async throws -> Child {
        var retry = Retry(busyWait)
        while true {
            do {
                return try attempt()
            } catch where retry.again(after: error) {
                try await Task.sleep(for: retry.pause)
            }
        }
    }

    /// The deadline and the growing pause between tries.
    private struct Retry {
        let deadline: ContinuousClock.Instant
        private(set) var pause: Duration = .milliseconds(2)

        init(_ busyWait: Duration) { deadline = ContinuousClock.now.advanced(by: busyWait) }

        /// Whether to try again after `error`; doubles the pause (up to 200 ms) when so.
        mutating func again(after error: any Error) -> Bool {
            guard ChildLaunch.isBusyExecutable(error), ContinuousClock.now < deadline else { return false }
            pause = min(pause * 2, .milliseconds(200))
            return true
        }
    }

    /// Whether `error` (from `Process.run`) says the executable is open for writing.
    static func isBusyExecutable(_ error: any Error) -> Bool {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return error.code == Int(ETXTBSY) }
        guard let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError else { return false }
        return underlying.domain == NSPOSIXErrorDomain && underlying.code == Int(ETXTBSY)
    }
}
