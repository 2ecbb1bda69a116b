import Foundation

/// Where the agent may learn its position (telex 60), and how long each answer stays good.
///
/// Every source is optional; with none configured the agent answers a 1060 with "unknown".
public struct PositionConfiguration: Sendable {
    /// A position given in the configuration: coordinates and an accuracy radius.
    public struct Fixed: Sendable, Equatable {
        /// Latitude in degrees, −90…90.
        public var lat: Double
        /// Longitude in degrees, −180…180.
        public var lon: Double
        /// Radius in metres within which the terminal is.
        public var accuracyMeters: Double

        /// Creates a configured position.
        public init(lat: Double, lon: Double, accuracyMeters: Double) {
            self.lat = lat
            self.lon = lon
            self.accuracyMeters = accuracyMeters
        }

        /// Throws when a coordinate is out of range or the radius is not a positive number.
        public func validate(_ name: String) throws(PositionError) {
            let fix = PositionFix(lat: lat, lon: lon, accuracyMeters: accuracyMeters, source: .static)
            guard fix.isValid else {
                throw PositionError(
                    "\(name) position \(lat),\(lon) ±\(accuracyMeters) m is invalid: latitude must be within −90…90, longitude within −180…180 and the accuracy a positive number of metres"
                )
            }
        }
    }

    /// An executable that prints the terminal's coarse position as `LAT,LON,ACC_M`
    /// (e.g. from the modem's cell id); how a site plugs in what only it knows.
    public struct Script: Sendable, Equatable {
        /// The executable to run (no shell is involved).
        public var executable: URL
        /// Its arguments.
        public var arguments: [String]
        /// The script is killed when it runs longer than this and its answer discarded.
        public var timeout: Duration
        /// The script runs again when its last run is older than this.
        public var refreshInterval: Duration
        /// Output beyond this many bytes is ignored (the answer is one short line).
        public var maxOutputBytes: Int

        /// Defaults: 10 s timeout, a new run after 5 minutes, 4 KiB of output.
        public init(
            executable: URL,
            arguments: [String] = [],
            timeout: Duration = .seconds(10),
            refreshInterval: Duration = .seconds(300),
            maxOutputBytes: Int = 4096
        ) {
            self.executable = executable
            self.arguments = arguments
            self.timeout = timeout
            self.refreshInterval = refreshInterval
            self.maxOutputBytes = maxOutputBytes
        }
    }

    /// The accuracy radius used for a coarse position given without one (5 km).
    public static let defaultCoarseRadiusMeters = 5000.0

    /// gpsd to read a GPS receiver from; nil when the terminal has no GPS (no connection attempts).
    public var gpsd: GPSDClientConfiguration?
    /// A fixed position from the configuration, reported with source `static`.
    public var staticPosition: Fixed?
    /// A coarse position from the configuration (radius typically 1–10 km), source `coarse`.
    public var coarse: Fixed?
    /// A script that prints a coarse position, source `coarse`.
    public var coarseScript: Script?
    /// A GPS fix older than this is stale: a moving terminal is elsewhere by now.
    public var gpsdMaxAge: Duration
    /// A script's answer older than this is stale (the script runs again before that).
    public var coarseScriptMaxAge: Duration

    /// Defaults: no source; GPS fixes good for 120 s, script answers for an hour.
    public init(
        gpsd: GPSDClientConfiguration? = nil,
        staticPosition: Fixed? = nil,
        coarse: Fixed? = nil,
        coarseScript: Script? = nil,
        gpsdMaxAge: Duration = .seconds(120),
        coarseScriptMaxAge: Duration = .seconds(3600)
    ) {
        self.gpsd = gpsd
        self.staticPosition = staticPosition
        self.coarse = coarse
        self.coarseScript = coarseScript
        self.gpsdMaxAge = gpsdMaxAge
        self.coarseScriptMaxAge = coarseScriptMaxAge
    }

    /// Throws with what to fix when a configured position or limit is unusable.
    public func validate() throws(PositionError) {
        try staticPosition?.validate("the static")
        try coarse?.validate("the coarse")
        if let gpsd {
            guard (1...65535).contains(gpsd.port) else {
                throw PositionError("gpsd port \(gpsd.port) is invalid: use 1…65535 (gpsd listens on 2947)")
            }
            guard gpsd.maxLineBytes >= 1024 else {
                throw PositionError("gpsd maxLineBytes \(gpsd.maxLineBytes) is too small for gpsd's reports: use at least 1024")
            }
        }
        if let script = coarseScript {
            guard script.timeout > .zero, script.maxOutputBytes > 0 else {
                throw PositionError("the coarse position script needs a positive timeout and output limit")
            }
        }
        guard gpsdMaxAge > .zero, coarseScriptMaxAge > .zero else {
            throw PositionError("position max ages must be positive durations")
        }
    }
}
