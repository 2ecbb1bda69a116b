/// The GPS receiver, through the gpsd client; its fixes go stale after `maxAge` because a
/// terminal on the move is elsewhere by then.
public struct GPSDPositionSource: PositionSource {
    /// The client that keeps the latest fix (it must be running as a service).
    public let client: GPSDClient
    /// A fix older than this is ignored.
    public let maxAge: Duration?

    /// Wraps a client; fixes older than `maxAge` are ignored.
    public init(client: GPSDClient, maxAge: Duration) {
        self.client = client
        self.maxAge = maxAge
    }

    /// `gpsd`.
    public var kind: PositionFix.Source { .gpsd }

    /// The client's latest fix (the provider checks its age).
    public func currentFix() async -> PositionFix? {
        client.latestFix
    }
}
