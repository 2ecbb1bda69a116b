@testable import PiggybackAgent
import Testing

/// The controller over minutes: route changes, queues it must not mistake for one, the
/// periodic base-delay probe, caps and gates.
@Suite struct ThrottleAdaptationTests {
    @Test func relearnsTheBaseDelayAfterARouteChange() {
        var harness = ThrottleHarness()
        harness.run(.seconds(30))
        #expect(harness.decision.baseDelay == .milliseconds(40))
        // A new route: 100 ms more round trip for good, nothing foreign anywhere.
        let after = harness.run(.seconds(25)) { link, _ in link.baseDelay = .milliseconds(140) }
        #expect(after[0].decision.reason == .delay)
        #expect(after[0].decision.bytesPerSecond == harness.floor)
        let back = after.first { $0.decision.bytesPerSecond >= 0.8 * harness.link.capacity }
        let rebase = harness.controller.configuration.rebaseAfter
        #expect(back != nil && back!.time - after[0].time <= rebase + .seconds(6), "back at \(String(describing: back?.time))")
        #expect(harness.decision.baseDelay == .milliseconds(140))
        #expect(harness.decision.bytesPerSecond >= 0.8 * harness.link.capacity)
    }

    @Test func keepsYieldingToAQueueSomeoneElseKeepsFilling() {
        var harness = ThrottleHarness()
        harness.run(.seconds(20))
        // Another terminal's TCP: its load swings above and below the capacity, so the queue
        // fills to the buffer limit and then saws between 200 and 300 ms; never drains.
        let steps = harness.run(.seconds(90)) { link, elapsed in
            let second = Int(elapsed / .seconds(1))
            link.remoteForeign = link.capacity * (second % 2 == 0 ? 1.2 : 0.9)
        }
        let settled = steps.dropFirst(5)
        #expect(settled.allSatisfy { $0.decision.bytesPerSecond == harness.floor })
        #expect(settled.allSatisfy { $0.decision.reason == .delay })
        #expect(harness.decision.baseDelay == .milliseconds(40))
    }

    @Test func slowsDownBrieflyEveryMinuteToRemeasureTheBase() {
        var harness = ThrottleHarness()
        let steps = harness.run(.seconds(130))
        let probes = steps.filter { $0.decision.reason == .probingBaseDelay }
        #expect(probes.count >= 2 && probes.count <= 6)
        #expect(probes.allSatisfy { $0.decision.bytesPerSecond == harness.floor })
        // Back to full speed right after.
        if let last = probes.last, let index = steps.firstIndex(where: { $0.time == last.time }), index + 2 < steps.count {
            #expect(steps[index + 1].decision.bytesPerSecond >= 0.8 * harness.link.capacity)
        }
    }

    @Test func anAbsoluteCapHolds() {
        var configuration = RateControllerConfiguration()
        configuration.maxRate = 100 * 1024
        var harness = ThrottleHarness(configuration)
        let steps = harness.run(.seconds(20))
        #expect(steps.allSatisfy { $0.decision.bytesPerSecond <= 100 * 1024 })
        #expect(harness.decision.reason == .cap)
        #expect(harness.decision.bytesPerSecond == 100 * 1024)
    }

    @Test func aShareOfTheLinkHoldsWithoutSpirallingDown() {
        var configuration = RateControllerConfiguration()
        configuration.maxShareOfLink = 0.5
        var harness = ThrottleHarness(configuration)
        harness.run(.seconds(10))
        let steps = harness.run(.seconds(90))
        let capacity = harness.link.capacity
        #expect(steps.allSatisfy { $0.decision.bytesPerSecond <= 0.56 * capacity })
        #expect(harness.decision.reason == .cap)
        #expect(harness.decision.bytesPerSecond >= 0.45 * capacity)
        #expect(ThrottleHarness.throughput(Array(steps.suffix(100))) >= 0.45 * capacity)
    }

    @Test func gatesApplyTheirRates() {
        var configuration = RateControllerConfiguration()
        configuration.batteryRate = 100 * 1024
        var harness = ThrottleHarness(configuration)
        harness.run(.seconds(10))
        harness.metered = true
        harness.run(.milliseconds(100))
        #expect(harness.decision.bytesPerSecond == harness.floor)
        #expect(harness.decision.reason == .gateMetered)
        harness.metered = false
        harness.onBattery = true
        harness.run(.milliseconds(100))
        #expect(harness.decision.bytesPerSecond == 100 * 1024)
        #expect(harness.decision.reason == .gateBattery)
        harness.onBattery = false
        harness.run(.seconds(3))
        #expect(harness.decision.bytesPerSecond >= 0.8 * harness.link.capacity)
    }

    @Test func chunksShrinkWithTheRate() {
        let controller = RateController<ManualClock.Instant>()
        #expect(controller.chunkSize(for: 16 * 1024) == 4 * 1024)
        #expect(controller.chunkSize(for: 2_500_000) == 19 * 1024)
        #expect(controller.chunkSize(for: 1e9) == 256 * 1024)
    }

    @Test func decisionsReadWell() {
        let decision = RateDecision(
            bytesPerSecond: 16 * 1024, chunkSize: 4096, reason: .foreignTraffic,
            linkRate: 2.5 * 1024 * 1024, baseDelay: .milliseconds(41), queuingDelay: .milliseconds(3))
        #expect(decision.description == "16.0 KiB/s, yielding to other traffic (link 2.5 MiB/s, base RTT 41 ms, queue 3 ms)")
        #expect(Set(RateDecision.Reason.allCases.map(\.description)).count == RateDecision.Reason.allCases.count)
    }
}
