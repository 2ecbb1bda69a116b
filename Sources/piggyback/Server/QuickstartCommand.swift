import ArgumentParser
import Foundation
import Logging
import PiggybackAgent
import PiggybackAgentCommand
import PiggybackServer
import ServiceLifecycle

/// `piggyback quickstart`: a server on embedded SQLite plus an agent for this machine,
/// one session at once, then the server keeps running until Ctrl-C.
struct QuickstartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Start a server (embedded SQLite) and enroll this machine's agent, with one session now."
    )

    @Option(name: .long, help: "Data directory; the agent's lives in DATA/agent.")
    var data: String = "piggyback-data"

    @Option(name: .long, help: "Agent endpoint HOST:PORT.")
    var listen: String = "127.0.0.1:7443"

    @Option(name: .long, help: "Admin API HOST:PORT.")
    var adminListen: String = "127.0.0.1:7080"

    @Flag(name: .long, help: "Print each telex of the session.")
    var trace = false

    func run() async throws {
        let logger = CommandLogging.logger(label: "piggyback.quickstart", level: "warning")
        let (host, port) = try ServerOptions.hostPort(listen, flag: "--listen")
        let (adminHost, adminPort) = try ServerOptions.hostPort(adminListen, flag: "--admin-listen")
        let configuration = ServerConfiguration(
            dataDirectory: URL(fileURLWithPath: data), listenHost: host, listenPort: port,
            adminHost: adminHost, adminPort: adminPort, database: "sqlite"
        )
        let server = try await ManagementServer(configuration: configuration, logger: logger)
        let agent = Agent(
            configuration: AgentConfiguration(dataDirectory: configuration.dataDirectory.appendingPathComponent("agent")),
            logger: logger, trace: trace ? AgentCommand.printLine : nil
        )
        let local = QuickstartAgent(server: server, agent: agent)
        let group = ServiceGroup(
            configuration: .init(services: server.services + [local], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        try await group.run()
        print("stopped; data kept in \(configuration.dataDirectory.path) — run quickstart again to pick up where you left off")
    }
}

/// Enrolls the local agent (first run only), runs one session, prints what to try next.
struct QuickstartAgent: Service {
    let server: ManagementServer
    let agent: Agent

    func run() async throws {
        let ports = await server.ready()
        let admin = "http://\(server.configuration.adminHost):\(ports.admin)"
        if try agent.deviceID() == nil {
            let client = AdminClient(base: URL(string: admin)!, token: server.adminToken.value)
            struct Request: Encodable { var expires_in_seconds = 600.0; var uses = 1 }
            struct Answer: Decodable { var token: String }
            let answer = try decode(Answer.self, try await client.send("POST", "/v1/enroll-tokens", json: Request()))
            try agent.enroll(token: answer.token)
        }
        print(ServerBanner.text(server: server, adminPort: ports.admin, showToken: true))
        do {
            let report = try await agent.runSession()
            print(SessionSummary.text(report))
        } catch {
            print("the local agent's session failed: \(error)")
        }
        let id = (try? agent.deviceID()) ?? nil
        print(
            """

            Try next (in another terminal, from this directory):
              swift run piggyback admin devices
              swift run piggyback admin device \(id ?? "ID")
              echo hello > hello.txt && swift run piggyback admin package add hello.txt --name hello --version 1
              swift run piggyback admin assign hello --device \(id ?? "ID")
              swift run piggyback agent --data \(agent.configuration.dataDirectory.path) --once --trace
            Ctrl-C stops the server.
            """
        )
        try? await gracefulShutdown()
    }
}
