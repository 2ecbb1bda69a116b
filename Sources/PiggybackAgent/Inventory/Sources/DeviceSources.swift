import Foundation

/// `network`: interfaces (not loopback): `IF.mac`, `.state`, `.speed_mbps`, `.driver`, `.mtu`.
/// Addresses come from /proc/net (IPv6) and the interface's state; IPv4 addresses are not in
/// /proc or /sys, so they are left to the monitor, which reads them over netlink.
struct NetworkSource: InventorySource {
    let section = "network"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        for name in system.entries("sys/class/net") where name != "lo" {
            let base = "sys/class/net/\(name)"
            if let mac = system.line("\(base)/address"), mac != "00:00:00:00:00:00" { items["\(name).mac"] = mac }
            if let state = system.line("\(base)/operstate") { items["\(name).state"] = state }
            if let speed = system.line("\(base)/speed").flatMap(Int.init), speed > 0 { items["\(name).speed_mbps"] = String(speed) }
            if let mtu = system.line("\(base)/mtu") { items["\(name).mtu"] = mtu }
            if let driver = system.linkTarget("\(base)/device/driver") { items["\(name).driver"] = driver }
            items["\(name).wireless"] = system.exists("\(base)/wireless") ? "yes" : "no"
        }
        if let inet6 = try? system.text("proc/net/if_inet6") {
            var byInterface: [String: [String]] = [:]
            for line in inet6.split(separator: "\n") {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6, fields[5] != "lo", fields[0].count == 32 else { continue }
                guard let address = Self.canonicalIPv6(hex: fields[0]) else { continue }
                byInterface[String(fields[5]), default: []].append(address)
            }
            for (name, addresses) in byInterface { items["\(name).ipv6"] = addresses.sorted().joined(separator: " ") }
        }
        return items
    }

    /// The RFC 5952 text form (`fd00::2`) of the 32 hex digits /proc/net/if_inet6 shows.
    static func canonicalIPv6(hex: Substring) -> String? {
        let digits = Array(hex.utf8)
        var raw = in6_addr()
        let ok = withUnsafeMutableBytes(of: &raw) { bytes -> Bool in
            for index in 0..<16 {
                guard let byte = UInt8(String(decoding: digits[(index * 2)..<(index * 2 + 2)], as: UTF8.self), radix: 16) else { return false }
                bytes[index] = byte
            }
            return true
        }
        guard ok else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count)) != nil else { return nil }
        return String(cString: text)
    }
}

/// `drivers`: loaded kernel modules (`module.NAME` = size) and the driver bound to each PCI
/// and USB device (`pci.SLOT` = `vendor:device class driver`, `usb.BUS-PORT` likewise).
struct DriverSource: InventorySource {
    let section = "drivers"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        if let modules = try? system.text("proc/modules") {
            for line in modules.split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 2 else { continue }
                items["module.\(fields[0])"] = String(fields[1])
            }
        }
        for slot in system.entries("sys/bus/pci/devices") {
            let base = "sys/bus/pci/devices/\(slot)"
            let vendor = Self.hex(system.line("\(base)/vendor"))
            let device = Self.hex(system.line("\(base)/device"))
            let deviceClass = Self.hex(system.line("\(base)/class"))
            let driver = system.linkTarget("\(base)/driver") ?? "-"
            items["pci.\(slot)"] = "\(vendor):\(device) \(deviceClass) \(driver)"
        }
        for port in system.entries("sys/bus/usb/devices") where !port.contains(":") {
            let base = "sys/bus/usb/devices/\(port)"
            guard let vendor = system.line("\(base)/idVendor"), let product = system.line("\(base)/idProduct") else { continue }
            let driver = system.linkTarget("\(base)/driver") ?? "-"
            let name = system.line("\(base)/product").map { " \($0)" } ?? ""
            items["usb.\(port)"] = "\(vendor):\(product) \(driver)\(name)"
        }
        guard !items.isEmpty || system.exists("proc/modules") || system.exists("sys/bus/pci") else {
            throw InventoryError("neither /proc/modules nor /sys/bus is readable")
        }
        return items
    }

    static func hex(_ text: String?) -> String {
        guard var text else { return "?" }
        if text.hasPrefix("0x") { text.removeFirst(2) }
        return text
    }
}

/// `power`: batteries and mains (`BAT0.capacity`, `.status`, `.energy_full`, `.energy_full_design`).
struct PowerSource: InventorySource {
    let section = "power"

    func collect(_ system: SystemFiles) throws -> [String: String] {
        var items: [String: String] = [:]
        for supply in system.entries("sys/class/power_supply") {
            let base = "sys/class/power_supply/\(supply)"
            guard let type = system.line("\(base)/type") else { continue }
            switch type {
            case "Battery":
                if let capacity = system.line("\(base)/capacity") { items["\(supply).capacity"] = capacity }
                if let status = system.line("\(base)/status") { items["\(supply).status"] = status }
                let full = system.line("\(base)/energy_full") ?? system.line("\(base)/charge_full")
                let design = system.line("\(base)/energy_full_design") ?? system.line("\(base)/charge_full_design")
                if let full { items["\(supply).energy_full"] = full }
                if let design { items["\(supply).energy_full_design"] = design }
                if let technology = system.line("\(base)/technology") { items["\(supply).technology"] = technology }
            case "Mains":
                if let online = system.line("\(base)/online") { items["\(supply).online"] = online == "1" ? "yes" : "no" }
            default:
                continue
            }
        }
        return items
    }
}

/// `dmi`: system vendor, product, BIOS; serial numbers only where readable (root).
struct DMISource: InventorySource {
    let section = "dmi"
    static let fields = [
        "sys_vendor", "product_name", "product_version", "product_serial", "product_uuid", "board_vendor", "board_name",
        "board_serial", "bios_vendor", "bios_version", "bios_date", "chassis_type",
    ]

    func collect(_ system: SystemFiles) throws -> [String: String] {
        guard system.exists("sys/class/dmi/id") else { return [:] }  // no DMI on this platform: an empty section, not a failure
        var items: [String: String] = [:]
        for field in Self.fields {
            if let value = system.line("sys/class/dmi/id/\(field)") { items[field] = value }
        }
        return items
    }
}
