import Logging

/// A rough position (about 1–10 km): either fixed in the configuration or the answer of a
/// site script (e.g. the modem's cell id looked up in a table).
///
/// The script runs at most once per refresh interval, so a burst of sessions does not start
/// a burst of processes; its last good answer is kept until it goes stale.
public actor CoarsePositionSource: PositionSource {
    enum Origin: Sendable {
        case fixed(PositionConfiguration.Fixed)
        case script(PositionConfiguration.Script)
    }

    let origin: Origin
    let logger: Logger
    /// The last good answer of the script.
    var lastFix: PositionFix?
    /// When the script last ran, successful or not.
    var lastRun: ContinuousClock.Instant?

    /// Nil for a configured position (it does not age), else the staleness of script answers.
    public nonisolated let maxAge: Duration?

    /// A coarse position fixed in the configuration; it never goes stale.
    public init(_ position: PositionConfiguration.Fixed, logger: Logger) {
        self.origin = .fixed(position)
        self.maxAge = nil
        self.logger = logger
    }

    /// A coarse position printed by a script; answers older than `maxAge` are ignored.
    public init(script: PositionConfiguration.Script, maxAge: Duration, logger: Logger) {
        self.origin = .script(script)
        self.maxAge = maxAge
        self.logger = logger
    }

    /// `coarse`.
    public nonisolated var kind: PositionFix.Source { .coarse }

    /// The configured position, or the script's latest answer (running it when due).
    public func currentFix() async -> PositionFix? {
        switch origin {
        case .fixed(let position):
            return PositionFix(lat: position.lat, lon: position.lon, accuracyMeters: position.accuracyMeters, source: .coarse)
        case .script(let script):
            if let lastRun, lastRun.duration(to: .now) < script.refreshInterval { return lastFix }
            lastRun = .now
            do {
                let fix = try await CoarsePositionScript(script).run()
                lastFix = fix
                logger.debug("coarse position script answered", metadata: [
                    "lat": "\(fix.lat)", "lon": "\(fix.lon)", "accuracy_m": "\(fix.accuracyMeters)",
                ])
            } catch {
                logger.warning("coarse position script gave no position", metadata: ["error": "\(error)"])
            }
            return lastFix
        }
    }
}
