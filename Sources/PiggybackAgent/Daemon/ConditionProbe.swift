import Foundation

/// Reads the metered state and the battery at trigger time.
///
/// Metered: NetworkManager's `Metered` property (NMMetered: 1 yes, 3 guess-yes count as
/// metered; 2 no, 4 guess-no as not), read with `busctl` when NetworkManager runs; when it
/// does not answer, an interface listed in the configuration carrying the default route
/// counts as metered. Battery: `/sys/class/power_supply/*` of type Battery.
public struct ConditionProbe: Sendable {
    let configuration: ConditionsConfiguration

    public init(configuration: ConditionsConfiguration) {
        self.configuration = configuration
    }

    /// Reads the conditions; `interface` is the one carrying the default route, if known.
    public func read(interface: String?) -> SessionConditions {
        var conditions = SessionConditions()
        if configuration.useNetworkManager, let metered = Self.networkManagerMetered() {
            conditions.metered = metered
            conditions.meteredSource = "networkmanager"
        } else if let interface, configuration.meteredInterfaces.contains(interface) {
            conditions.metered = true
            conditions.meteredSource = "configured (\(interface))"
        }
        if let battery = battery() {
            conditions.batteryPercent = battery.percent
            conditions.discharging = battery.discharging
            conditions.lowBattery = battery.discharging && battery.percent < configuration.lowBatteryPercent
        }
        return conditions
    }

    /// The first battery's charge and whether it is discharging; nil without a battery.
    func battery() -> (percent: Int, discharging: Bool)? {
        let directory = configuration.powerSupplyDirectory
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        for name in names {
            let supply = directory.appendingPathComponent(name)
            func read(_ file: String) -> String? {
                (try? String(contentsOf: supply.appendingPathComponent(file), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard read("type") == "Battery", let capacity = read("capacity").flatMap(Int.init) else { continue }
            return (max(0, min(100, capacity)), read("status") == "Discharging")
        }
        return nil
    }

    /// NetworkManager's global `Metered` property, or nil when NetworkManager does not answer.
    static func networkManagerMetered() -> Bool? {
        let busctl = ["/usr/bin/busctl", "/bin/busctl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let busctl else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: busctl)
        process.arguments = ["--system", "--timeout=1", "get-property", "org.freedesktop.NetworkManager",
                             "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager", "Metered"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return parseMetered(output)
    }

    /// Parses busctl's `u 4` answer.
    static func parseMetered(_ output: String) -> Bool? {
        let parts = output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard parts.count == 2, parts[0] == "u", let value = Int(parts[1]) else { return nil }
        switch value {
        case 1, 3: return true
        case 2, 4: return false
        default: return nil  // unknown: fall back to the configuration
        }
    }
}
