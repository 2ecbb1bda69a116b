import ArgumentParser
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A collection order as the API returns it (docs/JSON.md).
struct CollectionOrderRow: Decodable {
    struct Device: Decodable {
        struct Problem: Decodable { var path: String; var reason: String }
        var device: String
        var hostname: String
        var state: String
        var uploading_bytes: Int64
        var last_run_at: String?
        var runs: Int
        var files: Int
        var bytes: Int64
        var problems: [Problem]
    }

    var id: String
    var target: String
    var kind: String
    var paths: [String]
    var `repeat`: String
    var since_last: Bool
    var delete_after: Bool
    var max_bytes: Int64
    var created_at: String
    var devices: [Device]?

    /// `once`/`every-session` and the other flags, for tables.
    var flags: String {
        var flags = [`repeat` == "every_session" ? "every-session" : "once"]
        if since_last { flags.append("since-last") }
        if delete_after { flags.append("delete-after") }
        if max_bytes > 0 { flags.append("max \(max_bytes)") }
        return flags.joined(separator: ",")
    }
}

struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect", abstract: "Order files, logs or the journal to be collected, or cancel an order.",
        subcommands: [Order.self, Remove.self], defaultSubcommand: Order.self)

    struct Order: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "order",
            abstract: "Order a collection (the default: `admin collect --device ID --path GLOB`).",
            discussion: """
                Whole files are taken once per terminal unless --every-session; --log (growing logs: only what was \
                appended since the last collection travels; rotations are followed) and --journal (the systemd journal; \
                --path names units, none = the whole journal) are standing orders unless --once.
                """)
        @OptionGroup var admin: AdminOptions
        @Option(help: "Device id.") var device: String?
        @Option(help: "Every terminal carrying this label KEY=VALUE (see `admin device ID --label`).") var group: String?
        @Flag(help: "Every terminal.") var all = false
        @Option(help: "Glob on the terminal (inside its allowed roots), or a journal unit with --journal; repeat.") var path: [String] = []
        @Flag(help: "The paths are growing logs.") var log = false
        @Flag(help: "Collect the systemd journal (--path: units).") var journal = false
        @Flag(help: "Each terminal runs the order once (the default for whole files).") var once = false
        @Flag(help: "Run the order in every session (the default for --log and --journal).") var everySession = false
        @Flag(help: "Skip files whose content the server already holds from this order or path.") var sinceLast = false
        @Option(help: "Largest single file to take, in bytes (0: the server's limit).") var maxBytes: Int64 = 0
        @Flag(help: "Delete each file on the terminal once the server has stored it durably (whole files only).") var deleteAfter = false

        func validate() throws {
            guard [device != nil, group != nil, all].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --device ID, --group KEY=VALUE or --all")
            }
            guard !(log && journal) else { throw ValidationError("--log and --journal exclude each other") }
            guard !(once && everySession) else { throw ValidationError("--once and --every-session exclude each other") }
            guard !path.isEmpty || journal else { throw ValidationError("give at least one --path GLOB") }
            guard !(deleteAfter && (log || journal)) else {
                throw ValidationError("--delete-after applies to whole files only: a log or the journal keeps growing on the terminal and must stay there")
            }
            guard maxBytes >= 0 else { throw ValidationError("--max-bytes must be 0 or positive") }
        }

        func run() async throws {
            struct Request: Encodable {
                var device: String?; var label: String?; var all: Bool?; var paths: [String]; var kind: String
                var `repeat`: String?; var since_last: Bool; var delete_after: Bool; var max_bytes: Int64
            }
            let request = Request(
                device: device, label: group, all: all ? true : nil, paths: path, kind: journal ? "journal" : log ? "log" : "files",
                repeat: once ? "once" : everySession ? "every_session" : nil, since_last: sinceLast, delete_after: deleteAfter, max_bytes: maxBytes
            )
            let data = try await admin.client().send("POST", "/v1/collections", json: request)
            if admin.json { return admin.printJSON(data) }
            let order = try decode(CollectionOrderRow.self, data)
            print("collection order \(order.id): \(order.kind) from \(order.target), \(order.flags)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Cancel a collection order (files already collected stay).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Order id (see `admin collections`).") var id: String

        func run() async throws {
            let data = try await admin.client().send("DELETE", "/v1/collections/\(id)")
            if admin.json { return admin.printJSON(data) }
            print("collection order \(try decode(CollectionOrderRow.self, data).id) cancelled")
        }
    }
}

struct CollectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "collections", abstract: "Collection orders and their progress per terminal.")
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let data = try await admin.client().send("GET", "/v1/collections")
        if admin.json { return admin.printJSON(data) }
        let orders = try decode([CollectionOrderRow].self, data)
        if orders.isEmpty { return print("no collection orders") }
        for (index, order) in orders.enumerated() {
            if index > 0 { print("") }
            let paths = order.paths.isEmpty ? "(whole journal)" : order.paths.joined(separator: " ")
            print("\(order.id)  \(order.kind) \(paths)  → \(order.target)  [\(order.flags)]  \(order.created_at)")
            let rows = (order.devices ?? []).map { device in
                let state = device.state == "uploading" ? "uploading (\(device.uploading_bytes) B)" : device.state
                let problems = device.problems.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
                return ["  " + device.device, device.hostname, state, device.last_run_at ?? "-", String(device.runs), String(device.files), String(device.bytes), problems]
            }
            if rows.isEmpty {
                print("  (no terminal targeted yet)")
            } else {
                print(table(["  DEVICE", "HOSTNAME", "STATE", "LAST RUN", "RUNS", "FILES", "BYTES", "PROBLEMS"], rows))
            }
        }
    }
}

struct FilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Files collected from a terminal.", subcommands: [List.self, Get.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the files (and log segments) held for a terminal.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Device id.") var id: String

        func run() async throws {
            let data = try await admin.client().send("GET", "/v1/devices/\(id)/files")
            if admin.json { return admin.printJSON(data) }
            struct Row: Decodable { var path: String; var size: Int64; var sha256: String; var collected_at: String; var segment: Bool?; var stream_offset: Int64? }
            let rows = try decode([Row].self, data)
            print(table(["PATH", "SIZE", "SEGMENT AT", "SHA-256", "COLLECTED"], rows.map {
                [$0.path, String($0.size), $0.segment == true ? String($0.stream_offset ?? 0) : "-", String($0.sha256.prefix(16)), $0.collected_at]
            }))
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download one collected file; for a log or the journal, its segments joined in stream order.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Device id.") var id: String
        @Argument(help: "The file's path on the terminal (`journal` or `journal:UNIT` for the journal).") var path: String
        @Option(name: .shortAndLong, help: "Output file (default: standard output).") var output: String?

        func run() async throws {
            let client = try admin.client()
            let request = try client.request("GET", "/v1/devices/\(id)/files/content", query: ["path": path])
            // Streamed to a file by URLSession, never held whole in memory.
            let (downloaded, response): (URL, URLResponse)
            do {
                (downloaded, response) = try await URLSession.shared.download(for: request)
            } catch {
                throw AdminClient.Failure(
                    status: 0, code: "unreachable",
                    message: "cannot reach the admin API at \(client.base): \(error.localizedDescription); is `piggyback server` running?")
            }
            defer { try? FileManager.default.removeItem(at: downloaded) }
            if let status = (response as? HTTPURLResponse)?.statusCode, !(200..<300).contains(status) {
                _ = try client.check((try? Data(contentsOf: downloaded)) ?? Data(), response)
            }
            if let output {
                let target = URL(fileURLWithPath: output)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.moveItem(at: downloaded, to: target)
                let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? NSNumber)?.int64Value ?? 0
                FileHandle.standardError.write(Data("wrote \(size) bytes to \(output)\n".utf8))
            } else {
                let handle = try FileHandle(forReadingFrom: downloaded)
                defer { try? handle.close() }
                while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                    FileHandle.standardOutput.write(data)
                }
            }
        }
    }
}
