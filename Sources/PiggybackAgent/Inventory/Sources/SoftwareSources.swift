import Foundation

/// `software`: Debian packages from the dpkg status file. Key: package name (`name:arch`
/// when one name is installed for several architectures); value:
/// `VERSION ARCH INSTALLED_KIB [SOURCE]` (source only when it differs from the name).
struct DpkgSource: InventorySource {
    let section = "software"

    /// One stanza's fields of interest, as byte ranges of the file.
    struct Stanza {
        var package: Range<Int>?
        var status: Range<Int>?
        var version: Range<Int>?
        var architecture: Range<Int>?
        var installedSize: Range<Int>?
        var source: Range<Int>?
    }

    func collect(_ system: SystemFiles) throws -> [String: String] {
        let path = "var/lib/dpkg/status"
        guard system.exists(path) else { return [:] }  // not a Debian system
        let bytes = try system.bytes(path)
        var packages: [(name: String, arch: String, value: String)] = []
        var stanzas = 0
        Self.forEachStanza(bytes) { stanza in
            stanzas += 1
            guard let name = stanza.package, let version = stanza.version, let status = stanza.status,
                Self.endsWith(bytes[status], " installed")
            else { return }
            let text = { (range: Range<Int>) in String(decoding: bytes[range], as: UTF8.self) }
            let package = text(name)
            let arch = stanza.architecture.map(text) ?? "?"
            var value = "\(text(version)) \(arch) \(stanza.installedSize.map(text) ?? "0")"
            if let source = stanza.source.map(text)?.split(separator: " ").first, source != package { value += " \(source)" }
            packages.append((package, arch, value))
        }
        guard stanzas == 0 || !packages.isEmpty else {
            throw InventoryError("\(path) has \(stanzas) entries but none parse as an installed package; is it corrupt?")
        }
        var count: [String: Int] = [:]
        for package in packages { count[package.name, default: 0] += 1 }
        var items: [String: String] = [:]
        items.reserveCapacity(packages.count)
        for package in packages {
            items[count[package.name] ?? 0 > 1 ? "\(package.name):\(package.arch)" : package.name] = package.value
        }
        return items
    }

    /// Walks the RFC 822-style stanzas on bytes: the status file of a big system is several
    /// MiB, and byte scanning keeps a full collection within a few milliseconds.
    static func forEachStanza(_ bytes: [UInt8], _ body: (Stanza) -> Void) {
        var stanza = Stanza()
        var seen = false
        var start = 0
        let count = bytes.count
        while start <= count {
            var end = start
            while end < count && bytes[end] != 10 { end += 1 }
            if end == start {  // blank line (or end of file): the stanza is complete
                if seen { body(stanza) }
                stanza = Stanza()
                seen = false
            } else if bytes[start] != 32 && bytes[start] != 9 {
                var colon = start
                while colon < end && bytes[colon] != 58 { colon += 1 }
                if colon < end {
                    var valueStart = colon + 1
                    while valueStart < end && bytes[valueStart] == 32 { valueStart += 1 }
                    let value = valueStart..<end
                    seen = true
                    let name = bytes[start..<colon]
                    if name.elementsEqual(Self.package) { stanza.package = value }
                    else if name.elementsEqual(Self.status) { stanza.status = value }
                    else if name.elementsEqual(Self.version) { stanza.version = value }
                    else if name.elementsEqual(Self.architecture) { stanza.architecture = value }
                    else if name.elementsEqual(Self.installedSize) { stanza.installedSize = value }
                    else if name.elementsEqual(Self.source) { stanza.source = value }
                }
            }
            start = end + 1
        }
        if seen { body(stanza) }
    }

    static let package = Array("Package".utf8)
    static let status = Array("Status".utf8)
    static let version = Array("Version".utf8)
    static let architecture = Array("Architecture".utf8)
    static let installedSize = Array("Installed-Size".utf8)
    static let source = Array("Source".utf8)

    static func endsWith(_ bytes: ArraySlice<UInt8>, _ suffix: String) -> Bool {
        let tail = Array(suffix.utf8)
        return bytes.count >= tail.count && bytes.suffix(tail.count).elementsEqual(tail)
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
