import Foundation
import Logging
@testable import PiggybackAgent
import Testing

/// A clock that moves only when the test says so: sleepers wake when `advance` passes their
/// deadline. No wall time anywhere.
final class ManualClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID = 0

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .zero }
    /// Tasks sleeping on this clock now.
    var sleeping: Int { lock.withLock { sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ready: Bool = lock.withLock {
                    if deadline <= current || Task.isCancelled { return true }
                    sleepers.append((id, deadline, continuation))
                    return false
                }
                if ready {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let cancelled = lock.withLock { () -> CheckedContinuation<Void, any Error>? in
                guard let index = sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return sleepers.remove(at: index).continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    /// Moves time on and wakes every sleeper whose deadline has come.
    func advance(by duration: Duration) {
        let due = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            current = current.advanced(by: duration)
            let due = sleepers.filter { $0.deadline <= current }
            sleepers.removeAll { $0.deadline <= current }
            return due.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }

    /// Yields until some task sleeps on the clock (a task about to sleep gets there without
    /// any time passing).
    func waitForSleeper() async {
        while sleeping == 0 { await Task.yield() }
    }
}

@Suite struct ThrottlePacerTests {
    @Test func debtIsPaidAtTheRateAndARateChangeAppliesFromThen() {
        let clock = ManualClock()
        let start = clock.now
        var pacer = Pacer(clock: clock, rate: 1000)
        #expect(pacer.charge(500, at: start) == .milliseconds(500))
        #expect(pacer.delay(at: start.advanced(by: .milliseconds(250))) == .milliseconds(250))
        // 250 bytes of debt left at 250 ms; at 2000 B/s they take 125 ms.
        pacer.setRate(2000, at: start.advanced(by: .milliseconds(250)))
        #expect(pacer.delay(at: start.advanced(by: .milliseconds(250))) == .milliseconds(125))
        #expect(pacer.delay(at: start.advanced(by: .milliseconds(375))) == .zero)
    }

    @Test func aPauseBuysOnlyASmallBurst() {
        let clock = ManualClock()
        let start = clock.now
        var pacer = Pacer(clock: clock, rate: 100_000, burst: .milliseconds(10))
        // After a minute idle the bucket holds 10 ms worth (1000 bytes), not 6 MB.
        let later = start.advanced(by: .seconds(60))
        #expect(pacer.charge(1000, at: later) == .zero)
        #expect(pacer.charge(1000, at: later) == .milliseconds(10))
    }

    @Test func waitSleepsOnTheInjectedClock() async throws {
        let clock = ManualClock()
        let pacer = Pacer(clock: clock, rate: 1000)
        let done = Task {
            var pacer = pacer
            try await pacer.wait(for: 1000)
            return clock.now
        }
        await clock.waitForSleeper()
        clock.advance(by: .milliseconds(500))
        #expect(clock.sleeping == 1)  // half paid: still waiting
        clock.advance(by: .milliseconds(500))
        #expect(try await done.value == ManualClock.Instant(offset: .seconds(1)))
    }

    @Test func throttlePaceFollowsARateRiseWithinOneInterval() async throws {
        let clock = ManualClock()
        var configuration = ThrottleConfiguration()
        configuration.sampler.procRoot = "/nonexistent-proc"
        configuration.controller.initialRate = 1000
        configuration.controller.floorRate = 500
        let throttle = TransferThrottle(configuration: configuration, clock: clock, logger: Logger(label: "throttle-test"))
        let paced = Task { try await throttle.pace(bytes: 10_000); return clock.now }
        // At 1000 B/s this would take 10 s; the sleeps are one sampling interval each.
        for _ in 0..<3 {
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(100))
        }
        #expect(await throttle.nextDelay() > .seconds(9))
        // Startup doubles the rate every 200 ms: after a few samples the debt is gone fast.
        var steps = 3
        while steps < 200 {
            // The transfer keeps up with the rate (a transfer that does not stops the doubling).
            await throttle.moved(bytes: Int(await throttle.decision.bytesPerSecond / 10))
            await throttle.tick()
            await Task.yield()
            if await throttle.nextDelay() == .zero { break }
            await clock.waitForSleeper()
            clock.advance(by: .milliseconds(100))
            steps += 1
        }
        let finished = try await paced.value
        #expect(finished < ManualClock.Instant(offset: .seconds(3)))
    }

    @Test func roundTripsPairInOrderAndTheMinimumIsTakenOnce() {
        let t0 = ManualClock.Instant(offset: .zero)
        var timer = RoundTripTimer<ManualClock.Instant>()
        timer.sent(at: t0, count: 2)  // the first 70 releases two chunks
        #expect(timer.answered(at: t0.advanced(by: .milliseconds(40))) == .milliseconds(40))
        timer.sent(at: t0.advanced(by: .milliseconds(40)))
        #expect(timer.answered(at: t0.advanced(by: .milliseconds(60))) == .milliseconds(60))
        #expect(timer.answered(at: t0.advanced(by: .milliseconds(70))) == .milliseconds(30))
        #expect(timer.answered(at: t0.advanced(by: .milliseconds(80))) == nil)
        #expect(timer.takeMinimum() == .milliseconds(30))
        #expect(timer.takeMinimum() == nil)
    }
}
