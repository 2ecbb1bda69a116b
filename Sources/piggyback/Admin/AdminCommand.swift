import ArgumentParser
import Foundation

/// `piggyback admin`: the administrator's view, through the admin HTTP API.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Administer the fleet through the server's admin API.",
        subcommands: [
            EnrollTokenCommand.self, DevicesCommand.self, DeviceCommand.self, PackageCommand.self, PackagesCommand.self,
            AssignCommand.self, DeliveriesCommand.self, CollectCommand.self, CollectionsCommand.self, FilesCommand.self, InventoryRequestCommand.self, InventoryRequestsCommand.self,
            LogRuleCommand.self, LogRulesCommand.self, AlertsCommand.self, AlertCommand.self,
        ]
    )
}

/// Device rows as the API returns them (see docs/JSON.md).
struct DeviceRow: Decodable {
    var id: String
    var hostname: String
    var state: String
    var last_seen: String?
    var last_result: String?
}

struct EnrollTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll-token", abstract: "Issue an enrollment token for terminals.")
    @OptionGroup var admin: AdminOptions
    @Option(help: "Lifetime, e.g. 30m, 24h, 7d.") var expires: String = "24h"
    @Option(help: "How many terminals may enroll with it.") var uses: Int = 1

    static func seconds(_ text: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last.flatMap({ units[$0] }), let value = Double(text.dropLast()), value > 0 else {
            throw ValidationError("--expires must be a number with s, m, h or d, e.g. 24h")
        }
        return value * unit
    }

    func run() async throws {
        struct Request: Encodable { var expires_in_seconds: Double; var uses: Int }
        struct Answer: Decodable { var token: String; var expires_at: String; var uses: Int; var servers: [String] }
        guard uses > 0 else { throw ValidationError("--uses must be at least 1") }
        let data = try await admin.client().send("POST", "/v1/enroll-tokens", json: Request(expires_in_seconds: try Self.seconds(expires), uses: uses))
        if admin.json { return admin.printJSON(data) }
        let answer = try decode(Answer.self, data)
        print(answer.token)
        FileHandle.standardError.write(Data("valid until \(answer.expires_at) for \(answer.uses) terminal(s); servers: \(answer.servers.joined(separator: " "))\n".utf8))
    }
}

struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "devices", abstract: "List terminals.")
    @OptionGroup var admin: AdminOptions
    @Option(help: "Only terminals whose inventory matches, e.g. 'software.openssl < 3.0.11 and os.id == debian'.")
    var `where`: String?

    func run() async throws {
        let data = try await admin.client().send("GET", "/v1/devices", query: self.where.map { ["where": $0] } ?? [:])
        if admin.json { return admin.printJSON(data) }
        let rows = try decode([DeviceRow].self, data)
        print(table(["ID", "HOSTNAME", "STATE", "LAST SEEN", "LAST RESULT"], rows.map { [$0.id, $0.hostname, $0.state, $0.last_seen ?? "never", $0.last_result ?? "-"] }))
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "Show one terminal (inventory, deliveries), or revoke/accept it.")
    @OptionGroup var admin: AdminOptions
    @Argument(help: "Device id.") var id: String
    @Flag(help: "Revoke the terminal: its next session is refused.") var revoke = false
    @Flag(help: "Accept a pending or revoked terminal.") var accept = false
    @Flag(help: "Show what changed in the inventory, when, old → new.") var history = false
    @Option(help: "Set a label KEY=VALUE (repeat); groups devices for inventory requests and assignments.") var label: [String] = []
    @Option(help: "Remove the label KEY (repeat).") var unlabel: [String] = []

    func run() async throws {
        let client = try admin.client()
        if !label.isEmpty || !unlabel.isEmpty {
            var labels: [String: String?] = [:]
            for pair in label {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--label must be KEY=VALUE, not \(pair)") }
                labels[parts[0]] = .some(parts[1])
            }
            for key in unlabel { labels[key] = .some(nil) }
            struct Labels: Codable { var labels: [String: String?] }
            let data = try await client.send("PUT", "/v1/devices/\(id)/labels", json: Labels(labels: labels))
            if admin.json { return admin.printJSON(data) }
            let now = try decode(Labels.self, data).labels.compactMapValues { $0 }
            return print("device \(id) labels: \(now.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        }
        if history {
            let data = try await client.send("GET", "/v1/devices/\(id)/history")
            if admin.json { return admin.printJSON(data) }
            struct Change: Decodable { var version: Int64; var section: String; var key: String; var old: String?; var new: String?; var changed_at: String }
            let rows = try decode([Change].self, data)
            return print(table(["WHEN", "VERSION", "ITEM", "OLD", "NEW"], rows.map {
                [$0.changed_at, String($0.version), "\($0.section).\($0.key)", $0.old ?? "-", $0.new ?? "-"]
            }))
        }
        if revoke || accept {
            guard !(revoke && accept) else { throw ValidationError("give --revoke or --accept, not both") }
            let data = try await client.send("POST", "/v1/devices/\(id)/\(revoke ? "revoke" : "accept")")
            if admin.json { return admin.printJSON(data) }
            let row = try decode(DeviceRow.self, data)
            return print("device \(row.id) is now \(row.state)")
        }
        let data = try await client.send("GET", "/v1/devices/\(id)")
        if admin.json { return admin.printJSON(data) }
        struct Detail: Decodable {
            struct Delivery: Decodable { var package: String; var version: String; var state: String; var bytes: Int64 }
            var device: DeviceRow
            var labels: [String: String]
            var inventory: [String: [String: String]]
            var deliveries: [Delivery]
        }
        let detail = try decode(Detail.self, data)
        print("device \(detail.device.id) (\(detail.device.hostname)), \(detail.device.state), last seen \(detail.device.last_seen ?? "never")")
        if !detail.labels.isEmpty { print("labels: \(detail.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
        for (section, items) in detail.inventory.sorted(by: { $0.key < $1.key }) {
            print("[\(section)]")
            for (key, value) in items.sorted(by: { $0.key < $1.key }) { print("  \(key) = \(value)") }
        }
        if !detail.deliveries.isEmpty {
            print("deliveries:")
            print(table(["PACKAGE", "VERSION", "STATE", "BYTES"], detail.deliveries.map { [$0.package, $0.version, $0.state, String($0.bytes)] }))
        }
    }
}
