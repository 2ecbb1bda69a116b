import Logging
import PiggybackProtocol
import ServiceLifecycle

/// Knows where the terminal is: asks every configured source and answers with the best
/// fresh fix, the one with the smallest accuracy radius among those not older than their
/// source's max age. This is what goes out in telex 60.
///
/// The gpsd client runs as part of this service (`run()`), so a GPS fix is already at hand
/// when a session starts; `best()` never waits for the network.
public actor PositionProvider: Service {
    /// The configuration the sources were built from.
    public nonisolated let configuration: PositionConfiguration
    /// The configured sources, most preferred first on equal accuracy.
    public nonisolated let sources: [any PositionSource]
    /// The gpsd source, when gpsd is configured.
    nonisolated let gpsdSource: GPSDPositionSource?
    /// The gpsd client, when gpsd is configured (its `status` is worth showing).
    public nonisolated var gpsd: GPSDClient? { gpsdSource?.client }
    let logger: Logger
    /// The last answer given, for `status`.
    public private(set) var lastAnswer: PositionFix?

    /// Builds the sources from the configuration; throws when it is invalid.
    public init(configuration: PositionConfiguration, logger: Logger) throws(PositionError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        var sources: [any PositionSource] = []
        if let gpsdConfiguration = configuration.gpsd {
            let source = GPSDPositionSource(
                client: GPSDClient(configuration: gpsdConfiguration, logger: logger),
                maxAge: configuration.gpsdMaxAge
            )
            self.gpsdSource = source
            sources.append(source)
        } else {
            self.gpsdSource = nil
        }
        if let script = configuration.coarseScript {
            sources.append(CoarsePositionSource(script: script, maxAge: configuration.coarseScriptMaxAge, logger: logger))
        }
        if let coarse = configuration.coarse {
            sources.append(CoarsePositionSource(coarse, logger: logger))
        }
        if let fixed = configuration.staticPosition {
            sources.append(StaticPositionSource(fixed))
        }
        self.sources = sources
    }

    /// Uses the given sources as they are (tests, or a daemon with sources of its own).
    public init(sources: [any PositionSource], logger: Logger) {
        self.configuration = PositionConfiguration()
        self.sources = sources
        self.gpsdSource = sources.lazy.compactMap { $0 as? GPSDPositionSource }.first
        self.logger = logger
    }

    /// Runs the gpsd client until shutdown; without gpsd it just waits for shutdown.
    public nonisolated func run() async throws {
        if let gpsd {
            try await gpsd.run()
        } else {
            try? await gracefulShutdown()
        }
    }

    /// The most accurate fresh fix of all sources, or nil when none knows where the terminal is.
    /// On equal accuracy the earlier source wins (gpsd, script, coarse, static).
    public func best() async -> PositionFix? {
        var best: PositionFix?
        for source in sources {
            guard let fix = await source.currentFix(), fix.isValid else { continue }
            guard source.isFresh(fix) else {
                logger.debug("position: stale fix ignored", metadata: ["source": "\(fix.source.rawValue)", "age": "\(fix.age)"])
                continue
            }
            if let current = best, current.accuracyMeters <= fix.accuracyMeters { continue }
            best = fix
        }
        lastAnswer = best
        return best
    }

    /// Like `best()`, but when gpsd is configured and has no fresh fix yet, waits up to
    /// `timeout` for one (a session started right after boot, before the receiver locked).
    public func best(waitingUpTo timeout: Duration) async -> PositionFix? {
        if let gpsdSource {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            while ContinuousClock.now < deadline {
                if let fix = gpsdSource.client.latestFix, gpsdSource.isFresh(fix) { break }
                do { try await Task.sleep(for: .milliseconds(100)) } catch { break }
            }
        }
        return await best()
    }

    /// Telex 60 with the best fresh fix, or the "unknown" answer for a 1060 when there is none.
    public func wirePosition() async -> WirePosition {
        WirePosition(fix: await best())
    }
}

extension PositionProvider {
    /// The best position now, for a one-shot agent (`--once`) that runs no services:
    /// runs the gpsd client for at most `timeout` while waiting for a fix, then stops it.
    public static func oneShot(
        configuration: PositionConfiguration,
        timeout: Duration = .seconds(5),
        logger: Logger
    ) async throws(PositionError) -> PositionFix? {
        let provider = try PositionProvider(configuration: configuration, logger: logger)
        guard provider.gpsd != nil else { return await provider.best() }
        return await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await provider.run() }
            let fix = await provider.best(waitingUpTo: timeout)
            group.cancelAll()
            return fix
        }
    }
}
