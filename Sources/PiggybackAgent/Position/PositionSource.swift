/// Something that may know where the terminal is.
///
/// Sources are asked when a session needs a position; the provider keeps only fixes that
/// are fresh for their source and picks the most accurate one.
public protocol PositionSource: Sendable {
    /// The kind of source, as it appears in telex 60.
    var kind: PositionFix.Source { get }
    /// A fix older than this is ignored; nil means the fix never goes stale (configuration).
    var maxAge: Duration? { get }
    /// The source's latest fix, or nil when it knows nothing now.
    func currentFix() async -> PositionFix?
}

extension PositionSource {
    /// True when the fix is young enough for this source.
    func isFresh(_ fix: PositionFix) -> Bool {
        guard let maxAge else { return true }
        return fix.age <= maxAge
    }
}
