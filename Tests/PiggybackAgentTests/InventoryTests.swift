import Foundation
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// A fixture filesystem with the files the collectors read.
struct FixtureSystem {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-inv-\(UUID().uuidString)")
        try write("etc/os-release", "ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n")
        try write("proc/sys/kernel/hostname", "terminal-7\n")
        try write("proc/sys/kernel/osrelease", "6.1.0\n")
        try write("proc/cpuinfo", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 0\ncpu MHz\t: 2000.0\n\nprocessor\t: 1\nmodel name\t: Test CPU\nphysical id\t: 0\ncore id\t: 1\n\n")
        try write("proc/meminfo", "MemTotal:       8000000 kB\nSwapTotal:      1000 kB\n")
        try write("proc/mounts", "/dev/sda1 / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /media/my\\040stick vfat rw 0 0\n")
        try write("sys/block/sda/size", "1000\n")
        try write("sys/block/sda/queue/rotational", "0\n")
        try write("sys/class/power_supply/BAT0/type", "Battery\n")
        try write("sys/class/power_supply/BAT0/capacity", "80\n")
        try write("sys/class/power_supply/BAT0/status", "Discharging\n")
        try setPackages(["curl": "7.88.1-10", "openssl": "3.0.9-1"])
    }

    func write(_ path: String, _ text: String) throws {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    func setPackages(_ packages: [String: String]) throws {
        let stanzas = packages.sorted { $0.key < $1.key }.map { name, version in
            "Package: \(name)\nStatus: install ok installed\nArchitecture: amd64\nVersion: \(version)\nInstalled-Size: 100\nDescription: x\n more\n"
        }
        try write("var/lib/dpkg/status", stanzas.joined(separator: "\n"))
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

@Suite struct InventoryCollectorTests {
    func items(_ sections: [WireInventorySection], _ name: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (sections.first { $0.name == name }?.items ?? []).map { ($0.key, $0.value) })
    }

    @Test func readsTheFixtureTree() throws {
        let fixture = try FixtureSystem()
        defer { fixture.remove() }
        let sections = InventoryCollector(root: fixture.root).collect()
        #expect(sections.map(\.name) == sections.map(\.name).sorted())
        #expect(items(sections, "os")["hostname"] == "terminal-7")
        #expect(items(sections, "os")["name"] == "Debian GNU/Linux")
        #expect(items(sections, "cpu") == ["model": "Test CPU", "vendor": "GenuineIntel", "sockets": "1", "cores": "2", "threads": "2", "mhz_current": "2000"])
        #expect(items(sections, "memory")["total"] == "8192000000")
        #expect(items(sections, "filesystems")["/media/my stick.type"] == "vfat")
        #expect(items(sections, "filesystems")["/proc.type"] == nil)
        #expect(items(sections, "disks")["sda.size"] == "512000")
        #expect(items(sections, "power")["BAT0.capacity"] == "80")
        #expect(items(sections, "software")["curl"] == "7.88.1-10 amd64 100")
        #expect(sections.allSatisfy { $0.name == "drivers" || $0.failed.isEmpty })
    }

    @Test func unchangedDataIsByteIdentical() throws {
        let fixture = try FixtureSystem()
        defer { fixture.remove() }
        var a = WireInventory()
        a.sections = InventoryCollector(root: fixture.root).collect()
        var b = WireInventory()
        b.sections = InventoryCollector(root: fixture.root).collect()
        #expect(try a.serializedBytes() as [UInt8] == (try b.serializedBytes() as [UInt8]))
    }

    @Test func corruptDpkgStatusFailsOnlyItsSection() throws {
        let fixture = try FixtureSystem()
        defer { fixture.remove() }
        try fixture.write("var/lib/dpkg/status", "Package: broken\nVersion\n\nPackage: also-broken\n")
        let sections = InventoryCollector(root: fixture.root).collect()
        #expect(sections.first { $0.name == "software" }?.failed.contains("corrupt") == true)
        #expect(items(sections, "os")["hostname"] == "terminal-7")
    }

    @Test func absurdValuesAreCutAndFlagged() {
        let cut = InventoryCollector.bounded(String(repeating: "x", count: 100_000), limit: InventoryCollector.maxValueBytes)
        #expect(cut.utf8.count <= InventoryCollector.maxValueBytes)
        #expect(cut.hasSuffix("[cut from 100000 bytes]"))
    }

    @Test func liveSystemHasTheCoreSections() {
        let sections = InventoryCollector().collect()
        #expect(items(sections, "os")["kernel"] != nil)
        #expect(items(sections, "cpu")["cores"] != nil)
        #expect(items(sections, "memory")["total"] != nil)
        #expect(!items(sections, "software").isEmpty)
    }
}

/// Builds one inventory section from a dictionary.
func section(_ name: String, _ items: [String: String], failed: String = "") -> WireInventorySection {
        var section = WireInventorySection()
        section.name = name
        section.items = items.sorted { $0.key < $1.key }.map { key, value in
            var item = WireInventoryItem()
            item.key = key
            item.value = value
            return item
        }
        section.failed = failed
        return section
}

@Suite struct InventoryDeltaTests {
    let base: [WireInventorySection]

    init() {
        var base: [WireInventorySection] = []
        base.append(section("filesystems", ["/.total": "100000000000", "/.free": "50000000000"]))
        base.append(section("os", ["hostname": "t", "uptime_s": "100"]))
        base.append(section("software", ["curl": "7.88.1-10 amd64 100", "openssl": "3.0.9-1 amd64 100"]))
        self.base = base
    }

    @Test func nothingChangedIsEmpty() {
        #expect(InventoryDelta(base: base, current: base, policy: ChangePolicy()).isEmpty)
    }

    @Test func volatileDriftIsNotAChangeUntilPastItsThreshold() {
        var current = base
        current[1] = section("os", ["hostname": "t", "uptime_s": "999999"])
        current[0] = section("filesystems", ["/.total": "100000000000", "/.free": "49500000000"])  // 0.5 %
        let small = InventoryDelta(base: base, current: current, policy: ChangePolicy())
        #expect(small.isEmpty)
        #expect(small.snapshot[0].items.first { $0.key == "/.free" }?.value == "50000000000")  // base keeps the reported value
        current[0] = section("filesystems", ["/.total": "100000000000", "/.free": "48000000000"])  // 2 %
        let large = InventoryDelta(base: base, current: current, policy: ChangePolicy())
        #expect(large.sections.map(\.name) == ["filesystems"])
        #expect(large.sections[0].items.map(\.key) == ["/.free"])
    }

    @Test func upgradeAndRemovalAreItemLevel() {
        var current = base
        current[2] = section("software", ["curl": "8.5.0-1 amd64 110", "wget": "1.21 amd64 50"])
        let delta = InventoryDelta(base: base, current: current, policy: ChangePolicy())
        #expect(delta.sections.count == 1)
        #expect(delta.sections[0].items.map(\.key) == ["curl", "wget"])
        #expect(delta.sections[0].removed == ["openssl"])
    }

    @Test func failedSectionKeepsItsItemsAndSaysWhy() {
        var current = base
        current[2] = section("software", [:], failed: "cannot read /var/lib/dpkg/status: permission denied")
        let delta = InventoryDelta(base: base, current: current, policy: ChangePolicy())
        #expect(delta.sections.map(\.failed) == ["cannot read /var/lib/dpkg/status: permission denied"])
        #expect(delta.snapshot[2].items.count == 2)
    }

    @Test func partialRequestTouchesOnlyItsSections() {
        let delta = InventoryDelta(base: base, current: [section("software", ["curl": "9"])], policy: ChangePolicy(), complete: false)
        #expect(delta.sections.map(\.name) == ["software"])
        #expect(delta.snapshot.map(\.name) == ["filesystems", "os", "software"])
    }
}
