import Foundation
import Logging
@testable import PiggybackAgent
import Synchronization

/// An agent with its own data directory, collecting telex traces.
struct TestAgent {
    let directory: URL
    let agent: Agent
    let lines: TraceLines

    init(
        servers: [String] = [], consent: AgentConfiguration.Consent = .accept, position: (Double, Double, Double)? = nil,
        inventoryRoot: URL = URL(fileURLWithPath: "/"), inventoryMaxAge: Duration = .zero,
        positioning: PositionConfiguration = PositionConfiguration(), directory: URL? = nil, consentBroker: ConsentBroker? = nil,
        configure: (inout AgentConfiguration) -> Void = { _ in }
    ) {
        let directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("pb-agent-\(UUID().uuidString)")
        self.directory = directory
        var logger = Logger(label: "test.agent")
        logger.logLevel = .warning
        let lines = TraceLines()
        self.lines = lines
        var configuration = AgentConfiguration(
            dataDirectory: directory, servers: servers,
            position: position.map { (lat: $0.0, lon: $0.1, accuracy: $0.2) }, consent: consent,
            collectRoots: [directory.appendingPathComponent("outbox")], sessionTimeout: .seconds(60),
            inventoryRoot: inventoryRoot, inventoryMaxAge: inventoryMaxAge, positioning: positioning,
            // The listed servers only: tests send nothing to addresses they did not create.
            discovery: DiscoveryConfiguration(methods: [.list])
        )
        // Loopback transfers under a fully parallel test run would look like a busy CPU and a
        // delayed link to the throttle; tests of the throttle turn it on themselves.
        configuration.throttle.enabled = false
        configure(&configuration)
        agent = Agent(configuration: configuration, logger: logger, trace: { line in lines.append(line) }, consent: consentBroker)
    }

    var outbox: URL { directory.appendingPathComponent("outbox") }

    func enroll(_ token: String) throws -> String {
        let id = try agent.enroll(token: token)
        try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        return id
    }

    func run() async throws -> SessionReport { try await agent.runSession() }

    func identity() throws -> DeviceIdentity {
        guard let identity = try DeviceIdentity.load(from: directory) else { throw TestFailure("no identity") }
        return identity
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// Trace lines gathered from a session.
final class TraceLines: Sendable {
    let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
    func clear() { storage.withLock { $0 = [] } }
}
