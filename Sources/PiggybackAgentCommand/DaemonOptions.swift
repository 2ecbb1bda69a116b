import ArgumentParser
import Foundation
import PiggybackAgent

/// The resident daemon's flags: what triggers a session, how often, and what the
/// conditions on the road change.
struct DaemonOptions: ParsableArguments {
    @Option(name: .long, help: "Triggers, comma-separated: network-up, foreign-traffic, timer, manual.")
    var triggers: String = "network-up,foreign-traffic,manual"

    @Option(name: .long, help: "Timer fallback: a session every N minutes (with the timer trigger; default off).")
    var interval: Double?

    @Option(name: .long, help: "Minimum minutes between automatic sessions.")
    var minInterval: Double = 5

    @Option(name: .long, help: "Up to this many seconds of random delay before an automatic session.")
    var jitter: Double = 10

    @Option(name: .long, help: "Seconds of quiet that make one session of a burst of triggers.")
    var debounce: Double = 2

    @Option(name: .long, help: "Interface to treat as metered when NetworkManager does not say (repeat).")
    var meteredInterface: [String] = []

    @Option(name: .long, help: "On a metered link, defer deliveries larger than this many bytes.")
    var meteredMaxDelivery: UInt64 = 1 << 20

    @Option(name: .long, help: "Discharging below this percentage counts as a low battery.")
    var lowBattery: Int = 20

    @Option(name: .long, help: "On a low battery, defer deliveries larger than this many bytes.")
    var lowBatteryMaxDelivery: UInt64 = 256 << 10

    func validate() throws {
        _ = try kinds()
        for (name, value) in [("--min-interval", minInterval), ("--jitter", jitter), ("--debounce", debounce)] {
            guard value.isFinite, value >= 0, value <= 7 * 24 * 3600 else { throw ValidationError("\(name) must be a number ≥ 0") }
        }
        if let interval { guard interval.isFinite, interval > 0, interval <= 7 * 24 * 60 else { throw ValidationError("--interval must be between 0 and 10080 minutes") } }
        guard (0...100).contains(lowBattery) else { throw ValidationError("--low-battery must be a percentage 0–100") }
    }

    func kinds() throws -> Set<TriggerKind> {
        var kinds: Set<TriggerKind> = []
        for name in triggers.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let kind = TriggerKind(rawValue: name) else {
                throw ValidationError("unknown trigger \(name); use \(TriggerKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        return kinds
    }

    func makeTriggers() throws -> TriggerConfiguration {
        let kinds = try kinds()
        var timer: Duration?
        if kinds.contains(.timer) || interval != nil { timer = .seconds((interval ?? 60) * 60) }
        return TriggerConfiguration(
            networkUp: kinds.contains(.networkUp), foreignTraffic: kinds.contains(.foreignTraffic), timer: timer,
            manual: kinds.contains(.manual), debounce: .seconds(debounce), minimumInterval: .seconds(minInterval * 60),
            jitter: .seconds(jitter)
        )
    }

    func makeConditions() -> ConditionsConfiguration {
        ConditionsConfiguration(
            meteredInterfaces: meteredInterface, lowBatteryPercent: lowBattery,
            meteredMaxDeliveryBytes: meteredMaxDelivery, lowBatteryMaxDeliveryBytes: lowBatteryMaxDelivery
        )
    }
}
