/// A position configuration or source that cannot be used; the message says what is wrong
/// and what to change.
public struct PositionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong and what to do.
    public var message: String

    /// Creates an error with a message meant for the operator.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
