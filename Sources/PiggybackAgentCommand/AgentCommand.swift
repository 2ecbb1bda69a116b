import ArgumentParser
import PiggybackProtocol
import Foundation
import Logging
import PiggybackAgent
import ServiceLifecycle

/// `piggyback agent` (and `piggyback-agent`): enroll, run one session, or stay resident.
public struct AgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the terminal agent: enroll, run one management session, or stay resident.",
        subcommands: [InventoryCommand.self, StatusCommand.self, TriggerCommand.self, ConsentCommand.self, InstallServiceCommand.self]
    )

    @Option(name: .long, help: "Agent data directory (identity, pinned CA, registry, packages; default ./piggyback-agent). Also read by the subcommands: `agent --data DIR status`.")
    var data: String?

    /// The data directory in use.
    var dataPath: String { data ?? "piggyback-agent" }

    @Option(name: .long, help: "Enrollment token from `piggyback admin enroll-token`.")
    var enroll: String?

    @Option(name: .long, help: "Server URL (wss://HOST:PORT/v1/session[@LAT,LON]); repeat for a fallback list.")
    var server: [String] = []

    @Flag(name: .long, help: "Run exactly one management session now and exit.")
    var once = false

    @Option(name: .long, help: "Static position LAT,LON[,ACC_M] reported in telex 60.")
    var position: String?

    @Option(name: .long, help: "Read GPS positions from gpsd at HOST:PORT (e.g. 127.0.0.1:2947).")
    var gpsd: String?

    @Option(name: .long, help: "A coarse position LAT,LON[,RADIUS_M] (cell or site; radius default 5000).")
    var coarsePosition: String?

    @Option(name: .long, help: "A script printing a coarse position LAT,LON,ACC_M (run at most every 5 minutes).")
    var coarseScript: String?

    @Option(name: .long, help: "How to find the server, in order: list, nearest, broadcast (comma-separated).")
    var discovery: String = "list,broadcast"

    @Option(name: .long, help: "The servers' UDP discovery port.")
    var discoveryPort: Int = DiscoveryConfiguration.defaultPort

    @Option(name: .long, help: "Directory the server may collect from; repeat. Default: DATA/outbox and /var/log.")
    var collectRoot: [String] = []

    @Flag(name: .long, inversion: .prefixedNo, help: "Whether the server may collect the systemd journal (--journal orders).")
    var collectJournal = true

    @Option(name: .long, help: "Read the journal from this directory instead of the system's (journalctl --directory).")
    var journalDirectory: String?

    @OptionGroup(title: "Delivery") var delivery: DeliveryOptions

    @OptionGroup(title: "Transfer pacing") var pacing: ThrottleOptions

    @OptionGroup(title: "Resident daemon") var daemon: DaemonOptions

    @Option(name: .long, help: "Resident mode: minutes between offline inventory collections.")
    var inventoryInterval: Double = 60

    @Flag(name: .long, help: "Print each telex: direction, code, name, payload bytes.")
    var trace = false

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error).")
    var logLevel: String = "warning"

    public init() {}

    public func validate() throws {
        if let position { _ = try Self.parsePosition(position) }
        _ = try makeDiscovery()
        do {
            try makePositioning().validate()
        } catch {
            throw ValidationError("\(error)")
        }
        guard inventoryInterval.isFinite, inventoryInterval >= 1, inventoryInterval <= 7 * 24 * 60 else {
            throw ValidationError("--inventory-interval must be between 1 and 10080 minutes")
        }
    }

    static func parsePosition(_ text: String) throws -> (lat: Double, lon: Double, accuracy: Double) {
        let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard (2...3).contains(parts.count), parts.allSatisfy({ $0 != nil }), let lat = parts[0], let lon = parts[1],
            (-90...90).contains(lat), (-180...180).contains(lon)
        else {
            throw ValidationError("--position must be LAT,LON[,ACC_M] in degrees, e.g. 35.68,139.76,50")
        }
        let accuracy = parts.count == 3 ? parts[2]! : 0
        guard accuracy.isFinite, accuracy >= 0 else { throw ValidationError("--position accuracy must be a finite number of metres ≥ 0") }
        return (lat, lon, accuracy)
    }

    func makeConfiguration() throws -> AgentConfiguration {
        let directory = URL(fileURLWithPath: dataPath)
        var configuration = AgentConfiguration(
            dataDirectory: directory,
            servers: server,
            position: try position.map(Self.parsePosition),
            collectRoots: collectRoot.isEmpty ? nil : collectRoot.map { URL(fileURLWithPath: $0) },
            inventoryInterval: .seconds(inventoryInterval * 60),
            positioning: try makePositioning(),
            discovery: try makeDiscovery()
        )
        configuration.journal.allowed = collectJournal
        configuration.journal.directory = journalDirectory.map { URL(fileURLWithPath: $0) }
        delivery.apply(to: &configuration)
        try pacing.apply(to: &configuration)
        return configuration
    }

    func makeDiscovery() throws -> DiscoveryConfiguration {
        do {
            guard (1...65535).contains(discoveryPort) else { throw ValidationError("--discovery-port must be 1…65535") }
            return DiscoveryConfiguration(methods: try DiscoveryMethod.chain(parsing: discovery), port: discoveryPort)
        } catch let error as DiscoveryConfigurationError {
            throw ValidationError("--discovery: \(error.message)")
        }
    }

    func makePositioning() throws -> PositionConfiguration {
        var positioning = PositionConfiguration()
        if let gpsd {
            let parts = gpsd.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), !parts[0].isEmpty else {
                throw ValidationError("--gpsd must be HOST:PORT, e.g. 127.0.0.1:2947")
            }
            positioning.gpsd = GPSDClientConfiguration(host: String(parts[0]), port: port)
        }
        if let coarsePosition {
            let fix = try Self.parsePosition(coarsePosition)
            positioning.coarse = .init(lat: fix.lat, lon: fix.lon, accuracyMeters: fix.accuracy > 0 ? fix.accuracy : PositionConfiguration.defaultCoarseRadiusMeters)
        }
        if let coarseScript { positioning.coarseScript = .init(executable: URL(fileURLWithPath: coarseScript)) }
        return positioning
    }

    public func run() async throws {
        let logger = CommandLogging.logger(label: "piggyback.agent", level: logLevel)
        let sink: (@Sendable (String) -> Void)? = trace ? Self.printLine : nil
        var configuration = try makeConfiguration()
        // The resident daemon has no terminal to ask on; `agent consent` answers instead.
        if !once { configuration.consentPrompt.interactiveTerminal = false }
        // Resident: the position sources run as a service; one-shot: read once per session.
        let positions = once ? nil : try PositionProvider(configuration: configuration.effectivePositioning, logger: logger)
        // The daemon keeps the open consent question for `piggyback agent consent`.
        let consent = once ? nil : ConsentBroker()
        let agent = Agent(configuration: configuration, logger: logger, trace: sink, positions: positions, consent: consent)
        if let enroll {
            do {
                let id = try agent.enroll(token: enroll)
                print("enrolled as device \(id); the first session registers it with the server")
            } catch let error as PiggybackProtocol.TelexError {
                throw ValidationError(error.message)
            }
        }
        if once {
            try await Self.runOnce(agent)
            return
        }
        let triggers = try daemon.makeTriggers()
        let monitor = CommunicationMonitor(
            configuration: MonitorConfiguration(networkUp: true, foreignTraffic: triggers.foreignTraffic), logger: logger)
        let resident = AgentDaemon(agent: agent, triggers: triggers, conditions: daemon.makeConditions(), signals: monitor.events, logger: logger)
        let timer = InventoryTimer(agent: agent, logger: logger)
        let services: [any Service] = [timer, monitor] + (positions.map { [$0] } ?? []) + [resident]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Prints one trace line to standard output.
    /// Written at once, so a reader of a pipe (a benchmark, a log collector) sees it when it happens.
    @Sendable public static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Runs one session and prints its summary; failures exit non-zero with the reason.
    public static func runOnce(_ agent: Agent) async throws {
        let bar = ProgressBar.isTerminal ? Task { await ProgressBar(board: agent.transfers).run() } : nil
        do {
            let report = try await agent.runSession()
            bar?.cancel()
            _ = await bar?.value
            print(SessionSummary.text(report))
        } catch let error as AgentError {
            bar?.cancel()
            _ = await bar?.value
            FileHandle.standardError.write(Data("piggyback agent: \(error.message)\n".utf8))
            throw ExitCode(SessionSummary.exitCode(error.code))
        }
    }
}
