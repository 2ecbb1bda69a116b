import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Collects the terminal's inventory from /proc, /sys and /etc.
///
/// The walking skeleton's small set: hostname, OS, kernel, CPU model and cores, memory.
/// A section that cannot be read is reported as failed, with the reason; the rest goes out.
public struct InventoryCollector: Sendable {
    /// Root of the filesystem to read (tests point it at a fixture tree).
    public var root: URL

    /// Creates a collector reading the live system.
    public init(root: URL = URL(fileURLWithPath: "/")) {
        self.root = root
    }

    /// Collects every section.
    public func collect() -> [WireInventorySection] {
        [os(), hardware()]
    }

    func read(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    func section(_ name: String, _ body: () throws -> [(String, String)]) -> WireInventorySection {
        var section = WireInventorySection()
        section.name = name
        do {
            section.items = try body().sorted { $0.0 < $1.0 }.map { key, value in
                var item = WireInventoryItem()
                item.key = key
                item.value = value
                return item
            }
        } catch {
            section.failed = "\(error)"
        }
        return section
    }

    func os() -> WireInventorySection {
        section("os") {
            var items: [(String, String)] = []
            let release = Self.parseOSRelease((try? read("etc/os-release")) ?? (try? read("usr/lib/os-release")) ?? "")
            if let id = release["ID"] { items.append(("id", id)) }
            if let name = release["NAME"] { items.append(("name", name)) }
            if let version = release["VERSION_ID"] { items.append(("version", version)) }
            let hostname = (try? read("proc/sys/kernel/hostname"))?.trimmingCharacters(in: .whitespacesAndNewlines)
            items.append(("hostname", hostname ?? ProcessInfo.processInfo.hostName))
            if let kernel = try? read("proc/sys/kernel/osrelease") {
                items.append(("kernel", kernel.trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            return items
        }
    }

    func hardware() -> WireInventorySection {
        section("hardware") {
            var items: [(String, String)] = []
            let cpuinfo = try read("proc/cpuinfo")
            if let model = Self.firstValue(in: cpuinfo, key: "model name") ?? Self.firstValue(in: cpuinfo, key: "Hardware") {
                items.append(("cpu_model", model))
            }
            let processors = cpuinfo.split(separator: "\n").filter { $0.hasPrefix("processor") }.count
            items.append(("cpu_cores", String(max(processors, ProcessInfo.processInfo.processorCount))))
            let meminfo = try read("proc/meminfo")
            if let total = Self.firstValue(in: meminfo, key: "MemTotal"), let kib = UInt64(total.split(separator: " ").first ?? "") {
                items.append(("memory_total", String(kib * 1024)))
            }
            return items
        }
    }

    static func parseOSRelease(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq])
            var value = String(line[line.index(after: eq)...])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            out[key] = value
        }
        return out
    }

    static func firstValue(in text: String, key: String) -> String? {
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            guard line[..<colon].trimmingCharacters(in: .whitespaces) == key else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
