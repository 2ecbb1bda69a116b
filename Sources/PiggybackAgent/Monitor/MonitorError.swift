#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of the communication monitor, with a message that says what to check.
public struct MonitorError: Error, Sendable, CustomStringConvertible {
    /// Stable codes for the kinds of failure.
    public enum Code: String, Sendable {
        /// The network namespace could not be opened or joined.
        case namespace
        /// A netlink socket could not be created, bound or used.
        case netlink
        /// The kernel's TCP tables under /proc could not be read.
        case procNet = "proc_net"
        /// This platform has no netlink (the monitor is Linux-only).
        case unsupported
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
    static func system(_ code: Code, _ what: String, errno value: Int32, hint: String) -> MonitorError {
        MonitorError(code, "\(what): \(String(cString: strerror(value))) (errno \(value)); \(hint)")
    }

    public var description: String { message }
}
