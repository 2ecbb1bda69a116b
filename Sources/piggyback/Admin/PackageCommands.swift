import ArgumentParser
import Foundation

struct PackageRow: Decodable {
    var name: String
    var version: String
    var sha256: String
    var size: Int64
    var created_at: String
    var kind: String
    var target: String?
    var region: String?
    var rule: String?
    var supersedes: [String]
}

struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package", abstract: "Manage the package catalogue.", subcommands: [Add.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a file to the catalogue: streamed, stored by SHA-256, its manifest signed.",
            discussion: """
                Kinds: files (a tar, tar.gz or zip unpacked into --target, switched atomically, the previous \
                version kept for rollback), script (run on the terminal; --script names the entry of an archive, \
                else the file itself is the script), deb (installed with dpkg -i).
                A package with --when goes to every terminal whose inventory matches; with --region only to \
                terminals inside the region (circle:LAT,LON,RADIUS[m|km], GeoJSON text, or @FILE.geojson); \
                with `admin assign` to the devices, label or fleet you name (rule and region still apply).
                """
        )
        @OptionGroup var admin: AdminOptions
        @Argument(help: "The file to add.") var file: String
        @Option(help: "Package name.") var name: String
        @Option(help: "Package version (Debian version order decides which is newest).") var version: String
        @Option(help: "files, script or deb.") var kind: String = "files"
        @Option(help: "files: the absolute directory on the terminal the content becomes.") var target: String?
        @Option(help: "script: the archive entry to run (default: the file itself).") var script: String?
        @Option(help: "A shell command run on the terminal after installing; non-zero exit fails (files: rolls back).") var check: String?
        @Option(help: "Seconds the script, the check or dpkg may run (0: the terminal's default).") var timeout: Int?
        @Option(help: "Where the package applies: circle:LAT,LON,RADIUS, GeoJSON, or @FILE.") var region: String?
        @Option(help: "Inventory rule, e.g. 'software.curl < 8.5'.") var when: String?
        @Option(help: "A package name this one replaces (repeatable).") var supersedes: [String] = []

        func run() async throws {
            guard FileManager.default.isReadableFile(atPath: file) else { throw ValidationError("cannot read \(file)") }
            var regionText = region
            if let region, region.hasPrefix("@") {
                do {
                    regionText = try String(contentsOfFile: String(region.dropFirst()), encoding: .utf8)
                } catch {
                    throw ValidationError("cannot read the region file \(region.dropFirst()): \(error.localizedDescription)")
                }
            }
            let client = try admin.client()
            struct Upload: Decodable { var sha256: String; var size: Int64 }
            let upload = try decode(Upload.self, try await client.upload("/v1/uploads", file: URL(fileURLWithPath: file)))
            struct Request: Encodable {
                var name: String, version: String, sha256: String, kind: String
                var target: String?, script: String?, check: String?, timeout_s: Int?, region: String?, rule: String?
                var supersedes: [String]
            }
            let request = Request(
                name: name, version: version, sha256: upload.sha256, kind: kind, target: target, script: script, check: check,
                timeout_s: timeout, region: regionText, rule: when,
                supersedes: supersedes.flatMap { $0.split(separator: ",").map(String.init) }
            )
            let data = try await client.send("POST", "/v1/packages", json: request)
            if admin.json { return admin.printJSON(data) }
            let row = try decode(PackageRow.self, data)
            var line = "added \(row.name)@\(row.version) (\(row.kind)): \(row.size) bytes, sha256 \(row.sha256)"
            if let region = row.region { line += ", region \(region)" }
            if let rule = row.rule { line += ", when \(rule)" }
            print(line)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove a package version, its assignments and delivery records."
        )
        @OptionGroup var admin: AdminOptions
        @Argument(help: "NAME@VERSION.") var package: String

        func run() async throws {
            let parts = package.split(separator: "@", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("give the package as NAME@VERSION") }
            let data = try await admin.client().send("DELETE", "/v1/packages/\(Self.escape(parts[0]))/\(Self.escape(parts[1]))")
            if admin.json { return admin.printJSON(data) }
            print("removed \(parts[0])@\(parts[1])")
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
        print(table(["NAME", "VERSION", "KIND", "SIZE", "SHA-256", "CHOSEN BY"], rows.map { row in
            let by = [row.rule.map { "when \($0)" }, row.region.map { "region \($0)" }].compactMap { $0 }.joined(separator: ", ")
            return [row.name, row.version, row.kind, String(row.size), String(row.sha256.prefix(16)), by.isEmpty ? "assignment" : by]
        }))
    }
}

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assign", abstract: "Assign a package to a terminal, a label or all.")
    @OptionGroup var admin: AdminOptions
    @Argument(help: "NAME or NAME@VERSION (newest version when omitted).") var package: String
    @Option(help: "Device id.") var device: String?
    @Option(help: "KEY=VALUE: every terminal carrying the label (see `admin device ID --label`).") var label: String?
    @Flag(help: "Every terminal, present and future.") var all = false

    func run() async throws {
        guard [device != nil, label != nil, all].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --device ID, --label KEY=VALUE or --all")
        }
        struct Request: Encodable { var package: String; var version: String?; var device: String?; var label: String?; var all: Bool }
        let parts = package.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let name = parts.first, !name.isEmpty, parts.count == 1 || !parts[1].isEmpty else {
            throw ValidationError("give the package as NAME or NAME@VERSION")
        }
        let request = Request(package: name, version: parts.count > 1 ? parts[1] : nil, device: device, label: label, all: all)
        let data = try await admin.client().send("POST", "/v1/assignments", json: request)
        if admin.json { return admin.printJSON(data) }
        struct Answer: Decodable { var package: String; var version: String; var scope: String }
        let answer = try decode(Answer.self, data)
        print("assigned \(answer.package)@\(answer.version) to \(answer.scope)")
    }
}

struct DeliveriesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliveries",
        abstract: "Show each package's state on each terminal: pending, offered, deferred, downloading, downloaded, installed, failed, rolled_back."
    )
    @OptionGroup var admin: AdminOptions
    @Option(help: "Only this package (NAME or NAME@VERSION).") var package: String?
    @Option(help: "Only this device.") var device: String?

    func run() async throws {
        var query: [String: String] = [:]
        if let package { query["package"] = package }
        if let device { query["device"] = device }
        let data = try await admin.client().send("GET", "/v1/deliveries", query: query)
        if admin.json { return admin.printJSON(data) }
        struct Row: Decodable {
            var device: String, hostname: String, package: String, version: String, state: String
            var bytes: Int64, size: Int64, reason: String, detail: String
        }
        let rows = try decode([Row].self, data)
        print(table(["DEVICE", "HOST", "PACKAGE", "STATE", "BYTES", "WHY", "DETAIL"], rows.map { row in
            let bytes = row.state == "downloading" ? "\(row.bytes)/\(row.size)" : String(row.size)
            return [String(row.device.prefix(12)), row.hostname, "\(row.package)@\(row.version)", row.state, bytes,
                    String(row.reason.prefix(40)), String(row.detail.replacingOccurrences(of: "\n", with: " ").prefix(60))]
        }))
    }
}
