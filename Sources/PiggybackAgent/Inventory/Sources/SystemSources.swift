import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `os`: distribution, kernel, hostname, uptime.
struct OSSource: InventorySource {
    let section = "os"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        let release = (try? system.text("etc/os-release")) ?? (try? system.text("usr/lib/os-release"))
        for (key, value) in Self.parseOSRelease(release ?? "") {
            switch key {
            case "ID": items["id"] = value
            case "NAME": items["name"] = value
            case "VERSION_ID": items["version"] = value
            case "PRETTY_NAME": items["pretty_name"] = value
            case "VERSION_CODENAME": items["codename"] = value
            default: break
            }
        }
        if let hostname = system.line("proc/sys/kernel/hostname") { items["hostname"] = hostname }
        if let kernel = system.line("proc/sys/kernel/osrelease") { items["kernel"] = kernel }
        if let version = system.line("proc/sys/kernel/version") { items["kernel_build"] = version }
        if let uptime = system.line("proc/uptime")?.split(separator: " ").first, let seconds = Double(uptime) {
            items["uptime_s"] = String(Int(seconds))
        }
        var names = utsname()
        if system.root.path == "/", uname(&names) == 0 {
            items["arch"] = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        guard !items.isEmpty else { throw InventoryError("neither os-release nor /proc/sys/kernel is readable") }
        return items
    }

    static func parseOSRelease(_ text: String) -> [(String, String)] {
        text.split(separator: "\n").compactMap { line in
            guard let eq = line.firstIndex(of: "="), !line.hasPrefix("#") else { return nil }
            var value = String(line[line.index(after: eq)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            return (String(line[..<eq]), value)
        }
    }
}

/// `cpu`: model, vendor, clocks, sockets, cores, threads (from /proc/cpuinfo and cpufreq).
struct CPUSource: InventorySource {
    let section = "cpu"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        let text = try system.text("proc/cpuinfo")
        var items: [String: String] = [:]
        var sockets = Set<String>()
        var cores = Set<String>()
        var threads = 0
        var mhz: [Double] = []
        for block in text.components(separatedBy: "\n\n") where block.contains("processor") {
            var fields: [String: String] = [:]
            for line in block.split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon].trimmingCharacters(in: .whitespaces)] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            threads += 1
            let socket = fields["physical id"] ?? "0"
            sockets.insert(socket)
            cores.insert("\(socket)/\(fields["core id"] ?? String(threads))")
            if items["model"] == nil { items["model"] = fields["model name"] ?? fields["Model"] ?? fields["Hardware"] ?? fields["cpu"] }
            if items["vendor"] == nil { items["vendor"] = fields["vendor_id"] ?? fields["CPU implementer"] }
            if let value = fields["cpu MHz"].flatMap(Double.init) { mhz.append(value) }
        }
        guard threads > 0 else { throw InventoryError("/proc/cpuinfo lists no processor") }
        items["sockets"] = String(sockets.count)
        items["cores"] = String(cores.count)
        items["threads"] = String(threads)
        if let max = system.line("sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").flatMap(Int.init) {
            items["mhz_max"] = String(max / 1000)
        }
        if let current = system.line("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq").flatMap(Int.init) {
            items["mhz_current"] = String(current / 1000)
        } else if let first = mhz.first {
            items["mhz_current"] = String(Int(first.rounded()))
        }
        return items.compactMapValues { $0 }
    }
}

/// `memory`: total and swap, in bytes.
struct MemorySource: InventorySource {
    let section = "memory"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        let text = try system.text("proc/meminfo")
        var items: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count >= 2, let kib = UInt64(parts[1]) else { continue }
            switch parts[0] {
            case "MemTotal:": items["total"] = String(kib * 1024)
            case "SwapTotal:": items["swap_total"] = String(kib * 1024)
            default: break
            }
        }
        guard items["total"] != nil else { throw InventoryError("/proc/meminfo has no MemTotal") }
        return items
    }
}
