import Foundation

/// `software`: Debian packages from the dpkg status file. Key: package name (`name:arch`
/// when one name is installed for several architectures); value:
/// `VERSION ARCH INSTALLED_KIB [SOURCE]` (source only when it differs from the name).
struct DpkgSource: InventorySource {
    let section = "software"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        let path = "var/lib/dpkg/status"
        guard system.exists(path) else { return [:] }  // not a Debian system
        let text = try system.text(path)
        var packages: [(name: String, arch: String, value: String)] = []
        var stanzas = 0
        for stanza in text.components(separatedBy: "\n\n") where !stanza.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            stanzas += 1
            var fields: [Substring: Substring] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...].drop { $0 == " " }
            }
            guard let name = fields["Package"], let version = fields["Version"], let status = fields["Status"],
                status.hasSuffix(" installed")
            else { continue }
            let arch = fields["Architecture"].map(String.init) ?? "?"
            var value = "\(version) \(arch) \(fields["Installed-Size"] ?? "0")"
            if let source = fields["Source"]?.split(separator: " ").first, source != name { value += " \(source)" }
            packages.append((String(name), arch, value))
        }
        guard stanzas == 0 || !packages.isEmpty || !text.contains("Package:") else {
            throw InventoryError("\(path) has \(stanzas) entries but none parse as an installed package; is it corrupt?")
        }
        var count: [String: Int] = [:]
        for package in packages { count[package.name, default: 0] += 1 }
        var items: [String: String] = [:]
        for package in packages {
            items[count[package.name] ?? 0 > 1 ? "\(package.name):\(package.arch)" : package.name] = package.value
        }
        return items
    }
}

/// `rpm`: RPM packages, where an `rpm` database exists (asks `rpm -qa`: the database format
/// is not something to parse by hand). Value: `VERSION-RELEASE ARCH SIZE`.
struct RPMSource: InventorySource {
    let section = "rpm"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        guard system.root.path == "/", FileManager.default.isExecutableFile(atPath: "/usr/bin/rpm"),
            system.exists("var/lib/rpm") || system.exists("usr/lib/sysimage/rpm")
        else { return [:] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/rpm")
        process.arguments = ["-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH} %{SIZE}\\n"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw InventoryError("rpm -qa exited with \(process.terminationStatus)") }
        var items: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2 else { continue }
            items[String(fields[0])] = String(fields[1])
        }
        return items
    }
}

/// `piggyback`: the packages Piggyback itself delivered to this terminal (name → version).
struct DeliveredPackagesSource: InventorySource {
    let section = "piggyback"
    let packages: [AgentRegistry.Package]

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        for package in packages { items[package.name] = package.version }
        return items
    }
}
