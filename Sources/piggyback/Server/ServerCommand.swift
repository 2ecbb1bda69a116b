import ArgumentParser
import Foundation
import PiggybackAgentCommand
import PiggybackServer
import ServiceLifecycle

/// `piggyback server`: the management server.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the management server (agent endpoint over TLS, admin API, storage)."
    )

    @OptionGroup var options: ServerOptions

    func run() async throws {
        let logger = CommandLogging.logger(label: "piggyback.server", level: options.logLevel)
        let server = try await ManagementServer(configuration: try options.makeConfiguration(), logger: logger)
        let group = ServiceGroup(configuration: .init(services: server.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let ports = await server.ready()
                print(ServerBanner.text(server: server, adminPort: ports.admin))
            }
            try await tasks.waitForAll()
        }
    }
}

/// What the server prints when it is up; the admin token only on the start that created it.
enum ServerBanner {
    static func text(server: ManagementServer, adminPort: Int, showToken: Bool = false) -> String {
        let configuration = server.configuration
        var lines = [
            "piggyback server \(server.serverID) ready",
            "  agents:  \(server.endpoints.joined(separator: " "))",
            "  admin:   http://\(configuration.adminHost):\(adminPort)",
            "  CA:      sha256 \(server.authority.fingerprint)",
            "  data:    \(configuration.dataDirectory.path) (\(configuration.database == "sqlite" ? "embedded SQLite" : "PostgreSQL"))",
        ]
        if server.adminToken.created || showToken {
            lines.append("  admin token: \(server.adminToken.value)")
            if server.adminToken.created {
                lines.append("  (shown once; kept in \(configuration.dataDirectory.appendingPathComponent("admin-token").path), mode 0600)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
