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

    /// Parses with `piggyback admin --server URL --token T SUBCOMMAND …` accepted as well as
    /// the options after the subcommand (see ``AdminArguments``).
    static func main() async {
        do {
            var command = try parseAsRoot(AdminArguments.hoist(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The command-line contract puts `--server` and `--token` right after `admin`
/// (`piggyback admin --server URL --token T devices`); every admin subcommand also takes
/// them itself. Moving the leading ones to the end lets both spellings parse.
enum AdminArguments {
    static let global: Set<String> = ["--server", "--token"]

    static func hoist(_ arguments: [String]) -> [String] {
        guard arguments.first == "admin" else { return arguments }
        var rest = Array(arguments.dropFirst())
        var moved: [String] = []
        while let first = rest.first {
            if global.contains(first), rest.count >= 2 {
                moved += rest.prefix(2)
                rest.removeFirst(2)
            } else if let name = first.split(separator: "=", maxSplits: 1).first, global.contains(String(name)), first.contains("=") {
                moved.append(first)
                rest.removeFirst()
            } else {
                break
            }
        }
        return ["admin"] + rest + moved
    }
}
