/// Protocol versions and their negotiation in 20/1020.
public enum ProtocolVersion {
    /// The versions this build speaks.
    public static let supported: ClosedRange<UInt32> = 1...1

    /// The highest version both sides speak, or nil when the ranges do not meet.
    public static func negotiate(peer: ClosedRange<UInt32>, local: ClosedRange<UInt32> = supported) -> UInt32? {
        let low = max(peer.lowerBound, local.lowerBound)
        let high = min(peer.upperBound, local.upperBound)
        return low <= high ? high : nil
    }

    /// Builds a range from a telex's min/max fields, tolerating a zero or inverted max.
    public static func range(min: UInt32, max: UInt32) -> ClosedRange<UInt32> {
        let upper = Swift.max(min, max)
        return min...upper
    }

    /// Human form of a range: "1" or "1–3".
    public static func describe(_ range: ClosedRange<UInt32>) -> String {
        range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)–\(range.upperBound)"
    }
}
