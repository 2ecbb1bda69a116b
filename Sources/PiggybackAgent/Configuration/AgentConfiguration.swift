import Foundation
import PiggybackProtocol

/// Everything the agent needs for a session; the CLI maps its flags onto this.
public struct AgentConfiguration: Sendable {
    /// How the agent answers an offer of packages.
    public enum Consent: String, Sendable, CaseIterable {
        /// Download everything offered now.
        case accept
        /// Refuse for now (80); the server keeps the items pending for the next connection.
        case `defer`
        /// Ask the user (desktop notification, the control socket, or the terminal), with a
        /// timeout and a default answer (`consentPrompt`).
        case ask
    }

    /// Where the identity, the pinned CA, the registry and received packages live.
    public var dataDirectory: URL
    /// Servers to use instead of those in the enrollment token, in order.
    public var servers: [String]
    /// A fixed position to report in 60 (lat, lon, accuracy in metres).
    public var position: (lat: Double, lon: Double, accuracy: Double)?
    /// The answer to offers.
    public var consent: Consent
    /// Directories the server may collect files from; globs outside them are refused.
    public var collectRoots: [URL]
    /// Largest telex accepted.
    public var maxFrameSize: Int
    /// Upper bound on one whole session.
    public var sessionTimeout: Duration
    /// Largest single file a collection order may take when the order sets no limit.
    public var defaultMaxCollectBytes: UInt64
    /// Which inventory changes are worth a report.
    public var changePolicy: ChangePolicy
    /// A full inventory goes out at least this often, deltas in between.
    public var fullResyncInterval: Duration
    /// The filesystem the inventory is read from (`/`; tests use a fixture tree).
    public var inventoryRoot: URL
    /// Where the position (60) comes from: gpsd, a coarse position or script; `position`
    /// above is the static one.
    public var positioning: PositionConfiguration
    /// How the server is found: methods (list, nearest, broadcast), port, backoff.
    public var discovery: DiscoveryConfiguration
    /// How often the resident agent collects the inventory while offline.
    public var inventoryInterval: Duration
    /// A session uses the latest collection when it is younger than this, else collects anew.
    public var inventoryMaxAge: Duration
    /// How downloads and uploads stay out of the user's way (rate controller, signals, caps).
    public var throttle = ThrottleConfiguration()
    /// How `--journal` collection orders read the systemd journal.
    public var journal = JournalConfiguration()
    /// How the `ask` consent policy asks: timeout, default answer, notify-send.
    public var consentPrompt = ConsentConfiguration()
    /// How delivered packages are installed: allowed target roots, dpkg, versions kept.
    public var installer: InstallerConfiguration

    /// Defaults: data in `./piggyback-agent`, collection from `DIR/outbox` and `/var/log`.
    public init(
        dataDirectory: URL = URL(fileURLWithPath: "piggyback-agent"),
        servers: [String] = [],
        position: (lat: Double, lon: Double, accuracy: Double)? = nil,
        consent: Consent = .accept,
        collectRoots: [URL]? = nil,
        maxFrameSize: Int = TelexCodec.defaultMaxFrameSize,
        sessionTimeout: Duration = .seconds(600),
        defaultMaxCollectBytes: UInt64 = 1 << 30,
        changePolicy: ChangePolicy = ChangePolicy(),
        fullResyncInterval: Duration = .seconds(7 * 86400),
        inventoryRoot: URL = URL(fileURLWithPath: "/"),
        inventoryInterval: Duration = .seconds(3600),
        inventoryMaxAge: Duration = .seconds(300),
        positioning: PositionConfiguration = PositionConfiguration(),
        discovery: DiscoveryConfiguration = DiscoveryConfiguration()
    ) {
        self.dataDirectory = dataDirectory
        self.servers = servers
        self.position = position
        self.consent = consent
        self.collectRoots = collectRoots ?? [dataDirectory.appendingPathComponent("outbox"), URL(fileURLWithPath: "/var/log")]
        self.maxFrameSize = maxFrameSize
        self.sessionTimeout = sessionTimeout
        self.defaultMaxCollectBytes = defaultMaxCollectBytes
        self.changePolicy = changePolicy
        self.fullResyncInterval = fullResyncInterval
        self.inventoryRoot = inventoryRoot
        self.inventoryInterval = inventoryInterval
        self.inventoryMaxAge = inventoryMaxAge
        self.positioning = positioning
        self.discovery = discovery
        self.installer = InstallerConfiguration(dataDirectory: dataDirectory)
    }

    /// `positioning` with the static `position` in it (a zero radius counts as 1 m).
    public var effectivePositioning: PositionConfiguration {
        var effective = positioning
        if effective.staticPosition == nil, let position {
            effective.staticPosition = .init(lat: position.lat, lon: position.lon, accuracyMeters: max(position.accuracy, 1))
        }
        return effective
    }

    /// Whether any position source is configured.
    public var hasPositionSource: Bool {
        let effective = effectivePositioning
        return effective.gpsd != nil || effective.staticPosition != nil || effective.coarse != nil || effective.coarseScript != nil
    }
}
