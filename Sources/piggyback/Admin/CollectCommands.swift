import ArgumentParser
import Foundation

struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "collect", abstract: "Order files to be collected at the next session.")
    @OptionGroup var admin: AdminOptions
    @Option(help: "Device id.") var device: String?
    @Flag(help: "Every terminal.") var all = false
    @Option(help: "Glob on the terminal (inside its allowed roots); repeat.") var path: [String] = []
    @Option(help: "Largest single file to take, in bytes (0: the terminal's default).") var maxBytes: Int64 = 0

    func run() async throws {
        guard (device != nil) != all else { throw ValidationError("give exactly one of --device ID or --all") }
        guard !path.isEmpty else { throw ValidationError("give at least one --path GLOB") }
        struct Request: Encodable { var device: String?; var all: Bool; var paths: [String]; var max_bytes: Int64 }
        let data = try await admin.client().send("POST", "/v1/collections", json: Request(device: device, all: all, paths: path, max_bytes: maxBytes))
        if admin.json { return admin.printJSON(data) }
        struct Answer: Decodable { var id: String; var device: String? }
        let answer = try decode(Answer.self, data)
        print("collection order \(answer.id) for \(answer.device ?? "all terminals")")
    }
}

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Files collected from a terminal.", subcommands: [List.self, Get.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the files held for a terminal.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Device id.") var id: String

        func run() async throws {
            let data = try await admin.client().send("GET", "/v1/devices/\(id)/files")
            if admin.json { return admin.printJSON(data) }
            struct Row: Decodable { var path: String; var size: Int64; var sha256: String; var collected_at: String }
            let rows = try decode([Row].self, data)
            print(table(["PATH", "SIZE", "SHA-256", "COLLECTED"], rows.map { [$0.path, String($0.size), String($0.sha256.prefix(16)), $0.collected_at] }))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download one collected file.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Device id.") var id: String
        @Argument(help: "The file's path on the terminal.") var path: String
        @Option(name: .shortAndLong, help: "Output file (default: standard output).") var output: String?

        func run() async throws {
            let data = try await admin.client().send("GET", "/v1/devices/\(id)/files/content", query: ["path": path])
            if let output {
                try data.write(to: URL(fileURLWithPath: output))
                FileHandle.standardError.write(Data("wrote \(data.count) bytes to \(output)\n".utf8))
            } else {
                FileHandle.standardOutput.write(data)
            }
        }
    }
}
