@testable import PiggybackAgent
import Testing

/// A bottleneck as a fluid queue: our paced traffic, foreign traffic the terminal sees on its
/// interface, and foreign traffic it cannot see (another terminal) share `capacity`; whatever
/// exceeds it waits in a queue of at most `bufferLimit` bytes, and the round trip is the base
/// delay plus that queue.
struct SimulatedLink {
    var capacity: Double = 2_500_000  // 20 Mbit/s
    var baseDelay: Duration = .milliseconds(40)
    var bufferLimit: Double = 750_000  // 300 ms at 20 Mbit/s
    var localForeign: Double = 0
    var remoteForeign: Double = 0
    var queue: Double = 0

    var queuingDelay: Duration { .seconds(queue / capacity) }

    /// One interval of `seconds` at our `rate`: the bytes we moved and what the sampler saw.
    mutating func step(rate: Double, seconds: Double) -> (moved: Int, signals: LoadSignals) {
        let offered = rate + localForeign + remoteForeign
        let served = min(queue + offered * seconds, capacity * seconds)
        queue = min(bufferLimit, queue + offered * seconds - served)
        let moved = offered > 0 ? served * rate / offered : 0
        let signals = LoadSignals(
            foreignBytesPerSecond: localForeign, ownBytesPerSecond: moved / seconds, delay: baseDelay + queuingDelay)
        return (Int(moved), signals)
    }
}

/// Drives a controller over a simulated link in 100 ms steps on a made-up clock.
struct ThrottleHarness {
    struct Step {
        var time: Duration
        var decision: RateDecision
        var moved: Int
        var queuing: Duration
    }

    var controller: RateController<ManualClock.Instant>
    var link = SimulatedLink()
    var now = ManualClock.Instant(offset: .zero)
    var steps: [Step] = []
    var metered = false
    var onBattery = false
    var cpuBusy: Double?

    init(_ configuration: RateControllerConfiguration = RateControllerConfiguration()) {
        controller = RateController(configuration: configuration)
    }

    var decision: RateDecision { controller.decision }
    var floor: Double { controller.configuration.floorRate }

    /// Runs `duration`; `change` may alter the link before each step (time since this run began).
    @discardableResult
    mutating func run(_ duration: Duration, change: (inout SimulatedLink, Duration) -> Void = { _, _ in }) -> [Step] {
        let interval = Duration.milliseconds(100)
        var elapsed = Duration.zero
        var taken: [Step] = []
        while elapsed < duration {
            change(&link, elapsed)
            var (moved, signals) = link.step(rate: controller.decision.bytesPerSecond, seconds: 0.1)
            signals.metered = metered
            signals.onBattery = onBattery
            signals.cpuBusy = cpuBusy
            now = now.advanced(by: interval)
            elapsed += interval
            let decision = controller.update(at: now, signals: signals, movedBytes: moved)
            taken.append(Step(time: now.offset, decision: decision, moved: moved, queuing: link.queuingDelay))
        }
        steps += taken
        return taken
    }

    /// Mean throughput of the steps, bytes per second.
    static func throughput(_ steps: [Step]) -> Double {
        Double(steps.reduce(0) { $0 + $1.moved }) / (Double(steps.count) * 0.1)
    }
}

@Suite struct ThrottleControllerTests {
    @Test func usesIdleCapacityWithoutBuildingAQueue() {
        var harness = ThrottleHarness()
        harness.run(.seconds(10))
        let cruise = harness.run(.seconds(50))
        let capacity = harness.link.capacity
        #expect(ThrottleHarness.throughput(cruise) >= 0.9 * capacity)
        let queues = cruise.map(\.queuing).sorted()
        #expect(queues[queues.count * 95 / 100] <= .milliseconds(10), "p95 queuing \(queues[queues.count * 95 / 100])")
        #expect(cruise.allSatisfy { $0.decision.reason != .delay })
        let link = harness.decision.linkRate ?? 0
        #expect(link > 0.9 * capacity && link < 1.1 * capacity)
    }

    @Test func yieldsToTheFloorWithinOneUpdateWhenForeignTrafficAppears() {
        var harness = ThrottleHarness()
        harness.run(.seconds(20))
        #expect(harness.decision.bytesPerSecond > 0.8 * harness.link.capacity)
        // A few KiB/s of chatter is not the user at work.
        harness.run(.seconds(2)) { link, _ in link.localForeign = 8 * 1024 }
        #expect(harness.decision.bytesPerSecond > 0.8 * harness.link.capacity)
        let first = harness.run(.milliseconds(100)) { link, _ in link.localForeign = 300_000 }
        #expect(first[0].decision.bytesPerSecond == harness.floor)
        #expect(first[0].decision.reason == .foreignTraffic)
        #expect(first[0].decision.chunkSize == 4096)
        // And it stays there while the traffic goes on.
        let during = harness.run(.seconds(10))
        #expect(during.allSatisfy { $0.decision.bytesPerSecond == harness.floor && $0.decision.reason == .foreignTraffic })
    }

    @Test func yieldsAtTheHandshakeOfSomeoneElsesConnection() {
        var harness = ThrottleHarness()
        harness.run(.seconds(20))
        #expect(harness.decision.bytesPerSecond > 0.8 * harness.link.capacity)
        var signals = LoadSignals(foreignBytesPerSecond: 0, ownBytesPerSecond: harness.decision.bytesPerSecond, delay: .milliseconds(41))
        signals.newConnections = 1
        let decision = harness.controller.update(at: harness.now.advanced(by: .milliseconds(100)), signals: signals, movedBytes: 250_000)
        #expect(decision.bytesPerSecond == harness.floor)
        #expect(decision.reason == .foreignTraffic)

        var off = RateControllerConfiguration()
        off.yieldToNewConnections = false
        var ignoring = ThrottleHarness(off)
        ignoring.run(.seconds(20))
        let kept = ignoring.controller.update(at: ignoring.now.advanced(by: .milliseconds(100)), signals: signals, movedBytes: 250_000)
        #expect(kept.bytesPerSecond > 0.8 * ignoring.link.capacity)
    }

    @Test func reclaimsEightyPercentWithinFiveSecondsOfQuiet() {
        var harness = ThrottleHarness()
        harness.run(.seconds(20))
        harness.run(.seconds(10)) { link, _ in link.localForeign = 1_000_000 }
        let after = harness.run(.seconds(8)) { link, _ in link.localForeign = 0 }
        // The quiet period first: a user's request–response traffic has gaps this long.
        #expect(after.filter { $0.time - after[0].time < .milliseconds(900) }.allSatisfy { $0.decision.bytesPerSecond == harness.floor })
        let reclaimed = after.first { $0.decision.bytesPerSecond >= 0.8 * harness.link.capacity }
        let when = reclaimed.map { $0.time - after[0].time + .milliseconds(100) }
        #expect(when != nil && when! <= .seconds(5), "reclaimed after \(String(describing: when))")
        #expect(after.contains { $0.decision.reason == .recovering })
        #expect(harness.decision.reason == .unlimited)
    }

    @Test func backsOffWhenTheDelayRisesAboveTarget() {
        var harness = ThrottleHarness()
        harness.run(.seconds(20))
        // One sample 40 ms over the base: someone we cannot see is filling the queue.
        var signals = LoadSignals(delay: harness.link.baseDelay + .milliseconds(40))
        signals.foreignBytesPerSecond = 0
        let decision = harness.controller.update(at: harness.now.advanced(by: .milliseconds(100)), signals: signals, movedBytes: 250_000)
        #expect(decision.bytesPerSecond == harness.floor)
        #expect(decision.reason == .delay)
        #expect(decision.queuingDelay == .milliseconds(40))

        // The same through the link: another terminal's bulk download, invisible locally.
        var other = ThrottleHarness()
        other.run(.seconds(20))
        let steps = other.run(.seconds(3)) { link, _ in link.remoteForeign = link.capacity }
        let yielded = steps.firstIndex { $0.decision.reason == .delay }
        #expect(yielded != nil && yielded! <= 3)
        #expect(other.decision.bytesPerSecond == other.floor)
    }

    @Test func yieldsToBusyCPU() {
        var harness = ThrottleHarness()
        harness.run(.seconds(10))
        harness.cpuBusy = 0.97
        let steps = harness.run(.milliseconds(100))
        #expect(steps[0].decision.bytesPerSecond == harness.floor)
        #expect(steps[0].decision.reason == .cpu)
        harness.cpuBusy = 0.2
        harness.run(.seconds(5))
        #expect(harness.decision.bytesPerSecond > 0.8 * harness.link.capacity)
    }
}
