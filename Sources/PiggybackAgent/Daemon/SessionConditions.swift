import Foundation

/// The conditions that matter on the road, read when a trigger fires: is the link
/// metered, is the terminal running on a low battery. They shape the session's policy.
public struct SessionConditions: Sendable, Codable, Equatable {
    /// True when the link is metered (NetworkManager says so, or the interface is configured so).
    public var metered: Bool
    /// Where `metered` came from: `networkmanager`, `configured (wwan0)`, `default`.
    public var meteredSource: String
    /// True when discharging below the low-battery threshold.
    public var lowBattery: Bool
    /// Charge of the first battery found, in percent, and whether it is discharging.
    public var batteryPercent: Int?
    public var discharging: Bool

    public init(metered: Bool = false, meteredSource: String = "default", lowBattery: Bool = false, batteryPercent: Int? = nil, discharging: Bool = false) {
        self.metered = metered
        self.meteredSource = meteredSource
        self.lowBattery = lowBattery
        self.batteryPercent = batteryPercent
        self.discharging = discharging
    }
}

/// How conditions are read and what they change.
public struct ConditionsConfiguration: Sendable {
    /// Interfaces always treated as metered (when NetworkManager is absent or says unknown).
    public var meteredInterfaces: [String]
    /// Ask NetworkManager (over D-Bus, with `busctl`) whether the primary connection is metered.
    public var useNetworkManager: Bool
    /// Discharging below this charge counts as a low battery.
    public var lowBatteryPercent: Int
    /// On a metered link, deliveries larger than this are deferred to an unmetered one.
    public var meteredMaxDeliveryBytes: UInt64
    /// On a low battery, deliveries larger than this are deferred.
    public var lowBatteryMaxDeliveryBytes: UInt64
    /// Where batteries are described (tests point it at a fixture tree).
    public var powerSupplyDirectory: URL

    /// Defaults: NetworkManager when present; low battery below 20 %; metered links take
    /// deliveries up to 1 MiB, a low battery up to 256 KiB (inventory always goes).
    public init(
        meteredInterfaces: [String] = [], useNetworkManager: Bool = true, lowBatteryPercent: Int = 20,
        meteredMaxDeliveryBytes: UInt64 = 1 << 20, lowBatteryMaxDeliveryBytes: UInt64 = 256 << 10,
        powerSupplyDirectory: URL = URL(fileURLWithPath: "/sys/class/power_supply")
    ) {
        self.meteredInterfaces = meteredInterfaces
        self.useNetworkManager = useNetworkManager
        self.lowBatteryPercent = lowBatteryPercent
        self.meteredMaxDeliveryBytes = meteredMaxDeliveryBytes
        self.lowBatteryMaxDeliveryBytes = lowBatteryMaxDeliveryBytes
        self.powerSupplyDirectory = powerSupplyDirectory
    }

    /// The session policy under `conditions`: the smallest applicable delivery limit.
    public func policy(for conditions: SessionConditions) -> SessionPolicy {
        var policy = SessionPolicy(metered: conditions.metered, lowBattery: conditions.lowBattery)
        if conditions.metered {
            policy.maxDeliveryBytes = meteredMaxDeliveryBytes
            policy.reason = "metered link (\(conditions.meteredSource))"
        }
        if conditions.lowBattery, lowBatteryMaxDeliveryBytes < (policy.maxDeliveryBytes ?? .max) {
            policy.maxDeliveryBytes = lowBatteryMaxDeliveryBytes
            policy.reason = "low battery (\(conditions.batteryPercent.map { "\($0) %" } ?? "?"))"
        }
        return policy
    }
}

/// What a session may do under the current conditions.
public struct SessionPolicy: Sendable, Codable, Equatable {
    /// Deliveries larger than this are answered DEFERRED (nil: no limit).
    public var maxDeliveryBytes: UInt64?
    /// Why the limit applies, for the item's detail and `status`.
    public var reason: String

    /// Gates for the transfer throttle: the link is metered, the battery low.
    public var metered = false
    public var lowBattery = false

    public init(maxDeliveryBytes: UInt64? = nil, reason: String = "", metered: Bool = false, lowBattery: Bool = false) {
        self.maxDeliveryBytes = maxDeliveryBytes
        self.reason = reason
        self.metered = metered
        self.lowBattery = lowBattery
    }
}
