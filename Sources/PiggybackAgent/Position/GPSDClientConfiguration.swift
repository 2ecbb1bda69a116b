/// How to reach gpsd and how far to trust its reports.
public struct GPSDClientConfiguration: Sendable, Equatable {
    /// gpsd's host; loopback by default because gpsd listens only there unless told otherwise.
    public var host: String
    /// gpsd's TCP port (2947).
    public var port: Int
    /// A line longer than this is a protocol error and the connection is dropped
    /// (gpsd's reports are a few hundred bytes; SKY with many satellites a few KiB).
    public var maxLineBytes: Int
    /// Give up a connection attempt after this long.
    public var connectTimeout: Duration
    /// First wait before reconnecting after gpsd went away; doubles up to `maxBackoff`.
    public var initialBackoff: Duration
    /// Longest wait between reconnection attempts, so a terminal without gpsd stays quiet.
    public var maxBackoff: Duration
    /// Accuracy assumed for a 2D fix whose report carries no error estimate (conservative).
    public var defaultAccuracy2DMeters: Double
    /// Accuracy assumed for a 3D fix whose report carries no error estimate (conservative).
    public var defaultAccuracy3DMeters: Double

    /// Defaults: 127.0.0.1:2947, 64 KiB lines, 5 s connect timeout, backoff 1 s … 5 min,
    /// 250 m for a 2D and 100 m for a 3D fix without an error estimate.
    public init(
        host: String = "127.0.0.1",
        port: Int = 2947,
        maxLineBytes: Int = 64 * 1024,
        connectTimeout: Duration = .seconds(5),
        initialBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(300),
        defaultAccuracy2DMeters: Double = 250,
        defaultAccuracy3DMeters: Double = 100
    ) {
        self.host = host
        self.port = port
        self.maxLineBytes = maxLineBytes
        self.connectTimeout = connectTimeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.defaultAccuracy2DMeters = defaultAccuracy2DMeters
        self.defaultAccuracy3DMeters = defaultAccuracy3DMeters
    }
}
