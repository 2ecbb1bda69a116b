/// A position fixed in the configuration: a terminal installed at a known place, or an
/// operator's override. It never goes stale.
public struct StaticPositionSource: PositionSource {
    /// The configured position.
    public let position: PositionConfiguration.Fixed

    /// Creates the source; the position must be valid (see `PositionConfiguration.Fixed.validate`).
    public init(_ position: PositionConfiguration.Fixed) {
        self.position = position
    }

    /// `static`.
    public var kind: PositionFix.Source { .static }
    /// Nil: configuration does not age.
    public var maxAge: Duration? { nil }

    /// The configured position, stamped now.
    public func currentFix() async -> PositionFix? {
        PositionFix(lat: position.lat, lon: position.lon, accuracyMeters: position.accuracyMeters, source: .static)
    }
}
