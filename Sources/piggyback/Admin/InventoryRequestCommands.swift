import ArgumentParser
import Foundation

/// `piggyback admin inventory-request`: which sections terminals send, per scope.
struct InventoryRequestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory-request",
        abstract: "Choose the inventory sections terminals send: fleet-wide, per label or per device.",
        discussion: "The most specific setting wins: device, else the union of the device's labels, else fleet, else all."
    )
    @OptionGroup var admin: AdminOptions
    @Flag(help: "Apply to the whole fleet.") var fleet = false
    @Option(help: "Apply to one device.") var device: String?
    @Option(help: "Apply to devices with this label, KEY=VALUE.") var label: String?
    @Option(help: "Comma-separated sections, e.g. software,os.") var sections: String?
    @Flag(help: "Ask for every section.") var all = false
    @Flag(help: "Remove the setting of this scope.") var remove = false

    var scope: String? {
        if fleet { return "fleet" }
        if let device { return "device:\(device)" }
        if let label { return "label:\(label)" }
        return nil
    }

    func validate() throws {
        guard [fleet, device != nil, label != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --fleet, --device ID, --label KEY=VALUE")
        }
        guard [sections != nil, all, remove].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --sections LIST, --all, --remove")
        }
    }

    func run() async throws {
        struct Setting: Codable { var scope: String; var sections: [String] }
        let client = try admin.client()
        let data: Data
        if remove {
            data = try await client.send("DELETE", "/v1/inventory-requests", query: ["scope": scope ?? ""])
        } else {
            let list = (sections ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            data = try await client.send("PUT", "/v1/inventory-requests", json: Setting(scope: scope ?? "", sections: list))
        }
        if admin.json { return admin.printJSON(data) }
        let setting = try decode(Setting.self, data)
        print(remove ? "\(setting.scope): setting removed" : "\(setting.scope): \(setting.sections.isEmpty ? "all sections" : setting.sections.joined(separator: ","))")
    }
}

/// `piggyback admin inventory-requests`: every setting.
struct InventoryRequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inventory-requests", abstract: "List the inventory section settings.")
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        struct Setting: Decodable { var scope: String; var sections: [String] }
        let data = try await admin.client().send("GET", "/v1/inventory-requests")
        if admin.json { return admin.printJSON(data) }
        let rows = try decode([Setting].self, data)
        print(table(["SCOPE", "SECTIONS"], rows.map { [$0.scope, $0.sections.isEmpty ? "all" : $0.sections.joined(separator: ",")] }))
    }
}
