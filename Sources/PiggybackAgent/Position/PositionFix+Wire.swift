import PiggybackProtocol

extension PositionFix {
    /// This fix as telex 60.
    public var wire: WirePosition {
        var position = WirePosition()
        position.lat = lat
        position.lon = lon
        position.accuracyM = accuracyMeters
        position.source = source.rawValue
        position.timeUnixMs = Int64((time.timeIntervalSince1970 * 1000).rounded())
        return position
    }
}

extension WirePosition {
    /// Telex 60 for a fix, or the "unknown" answer (`unknown = true`, no coordinates) when
    /// there is none, so that a 1060 always gets an answer the server can act on.
    public init(fix: PositionFix?) {
        guard let fix else {
            self.init()
            self.unknown = true
            return
        }
        self = fix.wire
    }
}
