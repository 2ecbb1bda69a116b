import Foundation
@testable import PiggybackAgent
import Testing

@Suite struct DaemonUnitTests {
    @Test func manualGoesAtOnceAutomaticWaitsForTheIntervalPlusJitter() {
        let configuration = TriggerConfiguration(minimumInterval: .seconds(300), jitter: .seconds(10))
        let now = ContinuousClock.now
        #expect(configuration.delay(for: [.manual, .timer], lastSessionEnded: now, now: now, jitterFraction: 1) == .zero)
        #expect(configuration.delay(for: [.networkUp], lastSessionEnded: nil, now: now, jitterFraction: 0.5) == .seconds(5))
        #expect(configuration.delay(for: [.foreignTraffic], lastSessionEnded: now - .seconds(100), now: now, jitterFraction: 0) == .seconds(200))
        #expect(configuration.delay(for: [.foreignTraffic], lastSessionEnded: now - .seconds(900), now: now, jitterFraction: 0) == .zero)
    }

    @Test func inboxCoalescesTriggers() async {
        let inbox = TriggerInbox()
        inbox.fire(.networkUp)
        inbox.fire(.foreignTraffic)
        inbox.fire(.networkUp)
        var wakes = inbox.wakes.makeAsyncIterator()
        _ = await wakes.next()
        #expect(inbox.take() == [.networkUp, .foreignTraffic])
        #expect(inbox.take().isEmpty)
    }

    @Test func batteryAndMeteredConditions() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-power-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let battery = root.appendingPathComponent("BAT0")
        try FileManager.default.createDirectory(at: battery, withIntermediateDirectories: true)
        try "Battery\n".write(to: battery.appendingPathComponent("type"), atomically: true, encoding: .utf8)
        try "12\n".write(to: battery.appendingPathComponent("capacity"), atomically: true, encoding: .utf8)
        try "Discharging\n".write(to: battery.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        let configuration = ConditionsConfiguration(meteredInterfaces: ["wwan0"], useNetworkManager: false, powerSupplyDirectory: root)
        let probe = ConditionProbe(configuration: configuration)

        let onTheRoad = probe.read(interface: "wwan0")
        #expect(onTheRoad.metered && onTheRoad.lowBattery && onTheRoad.batteryPercent == 12)
        let policy = configuration.policy(for: onTheRoad)
        #expect(policy.maxDeliveryBytes == 256 << 10)
        #expect(policy.reason.hasPrefix("low battery"))

        try "Charging\n".write(to: battery.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        let atTheDesk = probe.read(interface: "eth0")
        #expect(!atTheDesk.metered && !atTheDesk.lowBattery)
        #expect(configuration.policy(for: atTheDesk).maxDeliveryBytes == nil)

        let noBattery = ConditionProbe(configuration: .init(useNetworkManager: false, powerSupplyDirectory: root.appendingPathComponent("none")))
        #expect(noBattery.read(interface: nil).batteryPercent == nil)
    }

    @Test func networkManagerAnswers() {
        #expect(ConditionProbe.parseMetered("u 1\n") == true)
        #expect(ConditionProbe.parseMetered("u 3") == true)
        #expect(ConditionProbe.parseMetered("u 4") == false)
        #expect(ConditionProbe.parseMetered("u 0") == nil)
        #expect(ConditionProbe.parseMetered("garbage") == nil)
    }
}
