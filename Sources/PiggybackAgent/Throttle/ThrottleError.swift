#if canImport(Glibc)
import Glibc
#endif

/// A failure of the throttle's system calls (TCP_INFO, scheduling and I/O priority), with a
/// message that says what went wrong and what to do. None of them is fatal to a transfer:
/// the caller logs it and goes on without that signal or that priority.
public struct ThrottleError: Error, Sendable, CustomStringConvertible {
    /// Stable codes for the kinds of failure.
    public enum Code: String, Sendable {
        /// TCP_INFO could not be read from a socket.
        case tcpInfo = "tcp_info"
        /// The CPU scheduling policy or nice value could not be lowered.
        case cpuPriority = "cpu_priority"
        /// The I/O priority could not be set to idle.
        case ioPriority = "io_priority"
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An error from a failed system call, with errno's text.
    static func system(_ code: Code, _ what: String, errno value: Int32, hint: String) -> ThrottleError {
        ThrottleError(code, "\(what): \(String(cString: strerror(value))) (errno \(value)); \(hint)")
    }

    public var description: String { message }
}
