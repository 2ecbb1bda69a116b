import ArgumentParser
import Foundation
import PiggybackAgent
import PiggybackProtocol

/// `piggyback agent inventory`: what this terminal would report, without a server.
struct InventoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Collect and print this terminal's inventory (no server involved)."
    )

    @Flag(help: "Print JSON: section → key → value (and _failed for a failed section).")
    var json = false

    @Option(help: "Read the inventory from this root instead of / (a mounted image, a fixture).")
    var root: String = "/"

    /// `--data` is the parent's (`agent --data DIR inventory`), for --record and --changes.
    @ParentCommand var agent: AgentCommand

    @Flag(help: "Also record this collection in the agent's registry (as the resident timer does).")
    var record = false

    @Flag(help: "Print the registry's log of inventory changes between collections, newest first.")
    var changes = false

    func run() async throws {
        let agent = Agent(
            configuration: AgentConfiguration(dataDirectory: URL(fileURLWithPath: agent.dataPath), inventoryRoot: URL(fileURLWithPath: root)),
            logger: CommandLogging.logger(label: "piggyback.agent", level: "warning"))
        if changes {
            for change in try await agent.localInventoryChanges(limit: 1000) {
                let what = change.old == nil ? "+ \(change.new ?? "")" : change.new == nil ? "- \(change.old ?? "")" : "\(change.old ?? "") → \(change.new ?? "")"
                print("\(change.at.formatted(.iso8601))  \(change.section).\(change.key)  \(what)")
            }
            return
        }
        var recorded: [WireInventorySection]?
        if record {
            let outcome = try await agent.recordInventory()
            recorded = outcome.sections
            FileHandle.standardError.write(Data("recorded; \(outcome.first ? "first collection" : "\(outcome.changes.count) change(s)")\n".utf8))
        }
        let sections = recorded ?? InventoryCollector(root: URL(fileURLWithPath: root)).collect()
        if json {
            var document: [String: [String: String]] = [:]
            for section in sections {
                var items = Dictionary(uniqueKeysWithValues: section.items.map { ($0.key, $0.value) })
                if !section.failed.isEmpty { items["_failed"] = section.failed }
                document[section.name] = items
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(document), as: UTF8.self))
            return
        }
        for section in sections {
            print("[\(section.name)]\(section.failed.isEmpty ? "" : " failed: \(section.failed)")")
            for item in section.items { print("  \(item.key) = \(item.value)") }
        }
    }
}
