import ArgumentParser
import PiggybackAgentCommand

/// `piggyback`: server, agent, admin and quickstart in one tool.
@main
struct Piggyback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "piggyback",
        abstract: "Manage fleets of rarely-online terminals by riding along on their users' connections.",
        subcommands: [ServerCommand.self, AgentCommand.self, AdminCommand.self, QuickstartCommand.self]
    )
}
