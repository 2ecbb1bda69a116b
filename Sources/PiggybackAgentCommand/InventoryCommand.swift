import ArgumentParser
import Foundation
import PiggybackAgent
import PiggybackProtocol

/// `piggyback agent inventory`: what this terminal would report, without a server.
struct InventoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Collect and print this terminal's inventory (no server involved)."
    )

    @Flag(help: "Print JSON: section → key → value (and _failed for a failed section).")
    var json = false

    @Option(help: "Read the inventory from this root instead of / (a mounted image, a fixture).")
    var root: String = "/"

    func run() throws {
        let sections = InventoryCollector(root: URL(fileURLWithPath: root)).collect()
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
