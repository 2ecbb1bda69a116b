import Foundation
import PiggybackTestSupport
import Logging
@testable import PiggybackAgent

/// A throw-away world for installer tests: a data directory, an allowed root for targets and
/// an "outside" directory that no package may touch.
struct InstallSandbox {
    let base: URL
    let data: URL
    let root: URL
    let outside: URL
    var configuration: InstallerConfiguration

    init() throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("pb-install-\(UUID().uuidString)")
        data = base.appendingPathComponent("data")
        root = data.appendingPathComponent("files")
        outside = base.appendingPathComponent("outside")
        for directory in [root, outside] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        configuration = InstallerConfiguration(dataDirectory: data)
        configuration.allowedTargetRoots = [root.path]
        configuration.killGrace = .milliseconds(500)
    }

    var installer: PackageInstaller {
        PackageInstaller(configuration: configuration, logger: Logger(label: "install-test"))
    }

    /// A path inside the sandbox.
    func path(_ relative: String) -> URL {
        base.appendingPathComponent(relative)
    }

    /// Writes files (relative path → content) under a new directory `name` in the sandbox.
    @discardableResult
    func tree(_ name: String, _ files: [String: String]) throws -> URL {
        let directory = path(name)
        for (relative, content) in files {
            let file = directory.appendingPathComponent(relative)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: file)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func remove() {
        try? FileManager.default.removeItem(at: base)
    }

    /// The names directly inside `url` (empty when it does not exist).
    static func list(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted()
    }

    static func read(_ url: URL) -> String? {
        try? String(contentsOf: url, encoding: .utf8)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// Runs a tool (tar, zip, dpkg-deb) for a test and fails with its output if it fails.
@discardableResult
func installTestRun(_ arguments: [String], in directory: URL? = nil) throws -> String {
    let result = try runCommand("/usr/bin/env", arguments, in: directory)
    guard result.status == 0 else {
        throw InstallTestError("\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
    }
    return result.output
}

struct InstallTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Hand-made tar archives, for entries no well-behaved tool writes.
enum CraftedTar {
    struct Entry {
        var name: String
        var type: Character = "0"
        var link: String = ""
        var content: String = ""
        var mode: Int = 0o644
    }

    static func file(_ name: String, _ content: String) -> Entry { Entry(name: name, content: content) }
    static func directory(_ name: String) -> Entry { Entry(name: name, type: "5", mode: 0o755) }
    static func symlink(_ name: String, to target: String) -> Entry { Entry(name: name, type: "2", link: target, mode: 0o777) }
    static func hardLink(_ name: String, to target: String) -> Entry { Entry(name: name, type: "1", link: target) }

    /// A ustar archive with these entries and the two closing zero blocks.
    static func archive(_ entries: [Entry]) -> Data {
        var bytes: [UInt8] = []
        for entry in entries {
            let content = Array(entry.content.utf8)
            bytes += header(entry, size: content.count)
            bytes += content
            bytes += [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
        }
        bytes += [UInt8](repeating: 0, count: 1024)
        return Data(bytes)
    }

    static func header(_ entry: Entry, size: Int) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, at: offset, width: width - 1)
        }
        put(entry.name, at: 0, width: 100)
        octal(entry.mode, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(0, at: 136, width: 12)
        header[156] = entry.type.asciiValue ?? 0x30
        put(entry.link, at: 157, width: 100)
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { header[index] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: 6 - digits.count) + digits, at: 148, width: 6)
        header[154] = 0
        header[155] = 0x20
        return header
    }
}
