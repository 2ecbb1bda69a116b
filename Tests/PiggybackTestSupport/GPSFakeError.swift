/// Why `gpsfake` could not be prepared or started, with what to do about it.
public struct GPSFakeError: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String

    /// Creates the error with its message.
    public init(_ description: String) { self.description = description }
}
