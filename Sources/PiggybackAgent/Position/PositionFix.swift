import Foundation

/// Where the terminal is, how sure it is, and who said so: one answer of one position source.
///
/// The server chooses position-dependent deliveries from this (telex 60), so the accuracy is
/// a radius in metres the server can trust rather than a quality flag it has to interpret.
public struct PositionFix: Sendable, Equatable {
    /// Which kind of source produced the fix; sent as `source` in telex 60.
    public enum Source: String, Sendable, CaseIterable {
        /// A GPS receiver read through gpsd.
        case gpsd
        /// A fixed position from the configuration (a terminal installed at a known place).
        case `static`
        /// A rough position with a radius of about 1–10 km (cell, region, or a script's guess).
        case coarse
    }

    /// Latitude in degrees (WGS 84), −90…90.
    public var lat: Double
    /// Longitude in degrees (WGS 84), −180…180.
    public var lon: Double
    /// Radius in metres within which the terminal is (about 95 % confidence for GPS).
    public var accuracyMeters: Double
    /// Which source produced the fix.
    public var source: Source
    /// Wall-clock time at which the agent obtained the fix; sent as `time_unix_ms`.
    ///
    /// This is the agent's clock, not the receiver's: a replayed or stale receiver time
    /// must not make a fix look older or newer than it is to the server.
    public var time: Date
    /// Monotonic instant at which the agent obtained the fix; staleness is measured from it
    /// because the wall clock of a rarely-online terminal jumps when it syncs.
    public var observedAt: ContinuousClock.Instant

    /// Creates a fix; `time` and `observedAt` default to now.
    public init(
        lat: Double,
        lon: Double,
        accuracyMeters: Double,
        source: Source,
        time: Date = Date(),
        observedAt: ContinuousClock.Instant = .now
    ) {
        self.lat = lat
        self.lon = lon
        self.accuracyMeters = accuracyMeters
        self.source = source
        self.time = time
        self.observedAt = observedAt
    }

    /// How long ago the agent obtained the fix.
    public var age: Duration { observedAt.duration(to: .now) }

    /// True when latitude, longitude and accuracy are finite, in range, and the accuracy is positive.
    public var isValid: Bool {
        lat.isFinite && lon.isFinite && accuracyMeters.isFinite
            && (-90...90).contains(lat) && (-180...180).contains(lon) && accuracyMeters > 0
    }
}
