/// A server-side failure with a stable code and a message that says what to do.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    /// Stable machine-readable codes, used in JSON error bodies.
    public enum Code: String, Sendable {
        case configuration
        case storage
        case notFound = "not_found"
        case invalid
        case conflict
        case unauthorized
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

    public var description: String { "\(code.rawValue): \(message)" }
}
