import ArgumentParser
import Foundation

struct PackageRow: Decodable {
    var name: String
    var version: String
    var sha256: String
    var size: Int64
    var created_at: String
}

struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "package", abstract: "Manage the package catalogue.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a file to the catalogue (streamed, stored by SHA-256).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The file to add.") var file: String
        @Option(help: "Package name.") var name: String
        @Option(help: "Package version.") var version: String

        func run() async throws {
            guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let path = "/v1/packages/\(Self.escape(name))/\(Self.escape(version))"
            let data = try await admin.client().upload(path, file: URL(fileURLWithPath: file))
            if admin.json { return admin.printJSON(data) }
            let row = try decode(PackageRow.self, data)
            print("added \(row.name)@\(row.version): \(row.size) bytes, sha256 \(row.sha256)")
        }

        static func escape(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "._-+~"))) ?? text
        }
    }
}

struct PackagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "packages", abstract: "List the package catalogue.")
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let data = try await admin.client().send("GET", "/v1/packages")
        if admin.json { return admin.printJSON(data) }
        let rows = try decode([PackageRow].self, data)
        print(table(["NAME", "VERSION", "SIZE", "SHA-256"], rows.map { [$0.name, $0.version, String($0.size), String($0.sha256.prefix(16))] }))
    }
}

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign", abstract: "Assign a package to a terminal or to all.")
    @OptionGroup var admin: AdminOptions
    @Argument(help: "NAME or NAME@VERSION (newest version when omitted).") var package: String
    @Option(help: "Device id.") var device: String?
    @Flag(help: "Every terminal, present and future.") var all = false

    func run() async throws {
        guard (device != nil) != all else { throw ValidationError("give exactly one of --device ID or --all") }
        struct Request: Encodable { var package: String; var version: String?; var device: String?; var all: Bool }
        let parts = package.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw ValidationError("give the package as NAME or NAME@VERSION")
        }
        let request = Request(package: name, version: parts.count > 1 ? parts[1] : nil, device: device, all: all)
        let data = try await admin.client().send("POST", "/v1/assignments", json: request)
        if admin.json { return admin.printJSON(data) }
        struct Answer: Decodable { var package: String; var version: String; var device: String? }
        let answer = try decode(Answer.self, data)
        print("assigned \(answer.package)@\(answer.version) to \(answer.device ?? "all terminals")")
    }
}
