import Foundation

/// The `Package` and `Version` fields of a .deb, read with `dpkg-deb` when the package is
/// added, so the server can tell from a terminal's software inventory that it already has it.
struct DebianControl: Sendable {
    var package: String
    var version: String

    /// Reads the fields; a file that is not a Debian package is refused at `package add`.
    static func read(_ file: URL) throws -> DebianControl {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-deb")
        process.arguments = ["--field", file.path, "Package", "Version"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw ServerError(.configuration, "cannot run dpkg-deb to read the .deb's control fields (\(error)); install dpkg on the server")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ServerError(.invalid, "the file is not a valid Debian package: \(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))")
        }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        guard let package = fields["Package"], let version = fields["Version"] else {
            throw ServerError(.invalid, "the .deb's control file names no Package or Version")
        }
        return DebianControl(package: package, version: version)
    }
}
