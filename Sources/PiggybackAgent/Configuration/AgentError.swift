import PiggybackProtocol

/// An agent-side failure with a stable code and a message that says what to do.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    /// Stable codes; the CLI maps them to exit codes.
    public enum Code: String, Sendable {
        /// No identity yet: enroll first.
        case notEnrolled = "not_enrolled"
        /// The identity or token on disk is unusable.
        case identity
        /// The server's certificate is not the pinned one.
        case untrustedServer = "untrusted_server"
        /// No server could be reached.
        case unreachable
        /// The server refused us (1090) or broke the protocol.
        case refused
        /// Local storage failed.
        case storage
        /// The session took longer than allowed.
        case timeout
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The server's error telex, when it sent one.
    public var telex: TelexError?

    /// Creates an error.
    public init(_ code: Code, _ message: String, telex: TelexError? = nil) {
        self.code = code
        self.message = message
        self.telex = telex
    }

    public var description: String { message }
}
