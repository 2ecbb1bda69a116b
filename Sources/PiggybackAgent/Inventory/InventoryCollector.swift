import Foundation
import PiggybackProtocol

/// Collects the terminal's inventory from /proc, /sys and the package databases.
///
/// Each section comes from one ``InventorySource``; a failing source marks its section as
/// failed with the reason and the rest still goes out. Output is canonical — sections and
/// items sorted, values bounded — so unchanged data is byte-identical between collections.
public struct InventoryCollector: Sendable {
    /// Longest value kept; longer ones are cut and flagged (`…[cut from N bytes]`).
    public static let maxValueBytes = 4096
    /// Most items kept per section.
    public static let maxItems = 50_000

    let system: SystemFiles
    let extra: [any InventorySource]

    /// Creates a collector reading the live system (or a fixture tree under `root`).
    public init(root: URL = URL(fileURLWithPath: "/"), delivered: [AgentRegistry.Package] = []) {
        self.system = SystemFiles(root: root)
        self.extra = [DeliveredPackagesSource(packages: delivered)]
    }

    var sources: [any InventorySource] {
        [OSSource(), CPUSource(), MemorySource(), FilesystemSource(), BlockDeviceSource(), NetworkSource(),
         DriverSource(), PowerSource(), DMISource(), DpkgSource(), RPMSource()] + extra
    }

    /// Collects every section, in canonical order.
    public func collect() -> [WireInventorySection] {
        sources.map { source in
            var section = WireInventorySection()
            section.name = source.section
            do {
                let items = try source.collect(system)
                section.items = items.sorted { $0.key < $1.key }.prefix(Self.maxItems).map { key, value in
                    var item = WireInventoryItem()
                    item.key = Self.bounded(key, limit: 256)
                    item.value = Self.bounded(value, limit: Self.maxValueBytes)
                    return item
                }
                if items.count > Self.maxItems {
                    var flag = WireInventoryItem()
                    flag.key = "_cut"
                    flag.value = "\(Self.maxItems) of \(items.count) items kept"
                    section.items.insert(flag, at: 0)
                }
            } catch {
                section.failed = "\(error)"
            }
            return section
        }
        .sorted { $0.name < $1.name }
    }

    /// How long each source takes, in milliseconds, for benchmarks and diagnosis.
    public func timings() -> [(section: String, milliseconds: Double)] {
        let clock = ContinuousClock()
        return sources.map { source in
            let start = clock.now
            _ = try? source.collect(system)
            let elapsed = clock.now - start
            return (source.section, elapsed.seconds * 1000)
        }
    }

    /// Cuts text to `limit` UTF-8 bytes (on a character boundary) and says so.
    static func bounded(_ text: String, limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var cut = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size > limit - 32 { break }
            cut.append(character)
            used += size
        }
        return cut + "…[cut from \(text.utf8.count) bytes]"
    }
}
