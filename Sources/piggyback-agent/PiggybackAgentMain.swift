import ArgumentParser
import PiggybackAgentCommand

/// The lean agent-only executable for terminals: links no server code.
@main
struct PiggybackAgentMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "piggyback-agent",
        abstract: "Piggyback terminal agent.",
        subcommands: [AgentCommand.self],
        defaultSubcommand: AgentCommand.self
    )
}
