/// One offered item as the user sees it: what it is, how big, and why the server chose it,
/// so the user can decide whether to download it now (say, on a metered link) or later.
public struct ConsentItem: Sendable, Codable, Equatable {
    /// The package name.
    public var name: String
    /// The package version.
    public var version: String
    /// Bytes to download.
    public var size: UInt64
    /// Why the server offers it (assignment, an inventory rule, the position).
    public var reason: String

    /// Creates an item.
    public init(name: String, version: String, size: UInt64, reason: String) {
        self.name = name
        self.version = version
        self.size = size
        self.reason = reason
    }
}
