import Foundation

/// Decides how fast a transfer may go, from the load signals and the bytes it moved: a
/// delay- and traffic-based scavenger that beats LEDBAT, BITS and TCP-LP at staying out of
/// the user's way.
///
/// - **Yield at once.** Foreign traffic on the terminal's interface, a queuing delay above
///   `targetQueuingDelay` (25 ms, a quarter of LEDBAT's) or a busy CPU drops the rate to the
///   floor within one update, not by halving per round trip.
/// - **Add almost no delay.** While nothing else runs, the rate follows the queuing delay
///   around `cruiseQueuingDelay` (4 ms), so the link is used with a queue of a few ms at most.
/// - **Reclaim fast.** After `quietPeriod` (1 s) of quiet the rate climbs exponentially toward
///   the link rate it learned (the best throughput achieved without congestion): ≥ 80 % within
///   about 2.6 s of the last foreign packet.
/// - **Keep the baseline honest.** The base delay is a windowed minimum (10 × 1 min buckets); a
///   brief slow-down every minute lets the queue drain so it stays true, and a delay that
///   stays high and steady for `rebaseAfter` while we sit at the floor is a new route, so the
///   base is re-learned instead of yielding forever.
///
/// A pure value: no clock, no I/O. Each `update` gets the time, so tests drive it with any
/// instants they like.
public struct RateController<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Where the controller is in its cycle.
    enum Phase: Sendable, Equatable {
        /// Nothing learned yet: doubling from the initial rate.
        case startup
        /// Yielding after a congestion signal, at the floor until quiet.
        case backedOff
        /// Climbing back toward the learned link rate.
        case recovering
        /// Using idle capacity, following the queuing delay.
        case cruising
        /// The periodic slow-down that re-learns the base delay.
        case probing
    }

    /// The parameters.
    public let configuration: RateControllerConfiguration
    /// The latest decision (the initial rate before the first update).
    public private(set) var decision: RateDecision
    /// The learned link rate, bytes per second.
    public internal(set) var linkRate: Double?

    var phase: Phase = .startup
    /// The rate before caps and gates.
    var rate: Double
    var lastUpdate: Instant?
    var meter: ThroughputMeter<Instant>
    var baseDelays: WindowedExtremum<Instant, Duration>
    var linkRates: WindowedExtremum<Instant, Double>
    /// The latest congestion signal.
    var congestion: (reason: RateDecision.Reason, at: Instant)?
    /// Since when the delay has been above target and steady (a route change candidate).
    var elevated: (since: Instant, low: Duration, high: Duration)?
    /// Whether startup has ended, so the link rate is a measurement and not a ramp's partial
    /// view (the share cap waits for it).
    var linkRateSettled = false
    /// Whether any delay sample has arrived (without one, growth is limited by throughput only).
    var sawDelay = false
    /// In startup: since when throughput has lagged far behind the rate.
    var laggingSince: Instant?
    /// When the next base-delay probe is due, and the rate to return to after it.
    var nextProbe: Instant?
    var probeEnds: Instant?
    var rateBeforeProbe: Double = 0

    /// A controller that has learned nothing yet.
    public init(configuration: RateControllerConfiguration = RateControllerConfiguration()) {
        self.configuration = configuration
        rate = max(configuration.initialRate, configuration.floorRate)
        meter = ThroughputMeter(window: configuration.throughputWindow)
        baseDelays = WindowedExtremum(.minimum, bucket: configuration.baseDelayBucket, buckets: configuration.baseDelayBuckets)
        linkRates = WindowedExtremum(.maximum, bucket: configuration.linkRateWindow / 3, buckets: 3)
        decision = RateDecision(bytesPerSecond: rate, chunkSize: configuration.minChunkSize, reason: .recovering)
        decision.chunkSize = chunkSize(for: rate)
    }

    /// Takes one sample: the signals, and the bytes this transfer moved since the previous
    /// update (received chunks for a download, acknowledged bytes for an upload). Call it
    /// every sampling interval while the transfer runs.
    @discardableResult
    public mutating func update(at now: Instant, signals: LoadSignals, movedBytes: Int) -> RateDecision {
        let elapsed = lastUpdate.map { max(0, $0.duration(to: now).seconds) } ?? 0
        lastUpdate = now
        meter.add(movedBytes, at: now)
        let throughput = meter.rate(at: now)
        let queuing = observe(delay: signals.delay, foreign: isForeign(signals), at: now)
        if let reason = congestionReason(signals, queuing: queuing) {
            backOff(reason, throughput: throughput, at: now)
        } else {
            let recent = elapsed > 0 ? Double(max(0, movedBytes)) / elapsed : nil
            advance(elapsed, throughput: throughput, recent: recent, queuing: queuing, at: now)
            learn(throughput, at: now)
        }
        rate = max(configuration.floorRate, rate)
        decision = decide(signals, queuing: queuing, at: now)
        return decision
    }

    /// Yields: the rate drops by `backoffFactor` (to the floor by default).
    mutating func backOff(_ reason: RateDecision.Reason, throughput: Double?, at now: Instant) {
        if reason == .delay, phase == .cruising, let throughput, let known = linkRate, throughput < known, rate >= known * 0.8 {
            // Delay while cruising at the estimate with nothing foreign in sight: the link may
            // have slowed. Aim the recovery at what it delivered, not at the old estimate.
            // (Below the estimate — still climbing back after a yield — delay says someone
            // else's queue, not a slower link.)
            linkRate = max(configuration.floorRate, throughput)
            linkRates.reset(to: max(configuration.floorRate, throughput), at: now)
        }
        rate = max(configuration.floorRate, rate * configuration.backoffFactor)
        phase = .backedOff
        congestion = (reason, now)
        probeEnds = nil
        laggingSince = nil
    }

    /// No congestion: waits out the quiet period, climbs, cruises or probes.
    /// `recent` is the throughput of the last interval alone.
    mutating func advance(_ elapsed: Double, throughput: Double?, recent: Double?, queuing: Duration?, at now: Instant) {
        let setpoint = configuration.cruiseQueuingDelay
        if phase == .backedOff {
            guard let congestion, congestion.at.duration(to: now) >= configuration.quietPeriod else { return }
            phase = linkRate == nil ? .startup : .recovering
        }
        switch phase {
        case .startup:
            if let queuing, queuing > setpoint {
                // A queue forms: we just sent faster than the link, so the last interval's
                // throughput is the link's (the windowed one still lags the doubling).
                if let recent, recent > linkRate ?? 0 {
                    linkRate = recent
                    linkRates.add(recent, at: now)
                }
                phase = .cruising
                linkRateSettled = true
                rate = max(configuration.floorRate, linkRate ?? rate)
            } else if let throughput, throughput < rate / 4 {
                // The transfer cannot follow (server, window or link): stop doubling. (One
                // that follows measures about half the rate, its window lagging the doubling.)
                let since = laggingSince ?? now
                laggingSince = since
                if since.duration(to: now) >= .milliseconds(500) {
                    phase = .cruising
                    linkRateSettled = true
                    rate = max(configuration.floorRate, linkRate ?? throughput)
                }
            } else {
                laggingSince = nil
                rate *= pow(2, elapsed / configuration.startupDoublingTime.seconds)
            }
        case .recovering:
            // Back towards the learned rate; only a queue near the target stops the climb (the
            // kernel's smoothed RTT still carries the last queue for a while after a yield, so
            // the cruise setpoint would stop it at the floor). Above the target is a back-off.
            let target = max(configuration.floorRate, (linkRate ?? rate) * configuration.recoveryShare)
            if let queuing, queuing > configuration.targetQueuingDelay / 2, rate > configuration.floorRate * 4 {
                phase = .cruising
            } else {
                rate = target - (target - rate) * exp(-elapsed / configuration.recoveryTimeConstant.seconds)
                if rate >= target * 0.99 { phase = .cruising }
            }
        case .cruising:
            cruise(elapsed, throughput: throughput, queuing: queuing)
            if nextProbe == nil { nextProbe = now.advanced(by: configuration.baseProbeInterval) }
            if let due = nextProbe, now >= due, rate > 2 * configuration.floorRate {
                phase = .probing
                rateBeforeProbe = rate
                probeEnds = now.advanced(by: configuration.baseProbeDuration)
            }
        case .probing:
            if let ends = probeEnds, now >= ends {
                phase = .cruising
                rate = rateBeforeProbe
                probeEnds = nil
                nextProbe = now.advanced(by: configuration.baseProbeInterval)
            }
        case .backedOff:
            break
        }
    }

    /// LEDBAT-like proportional control around the cruise delay, on the rate: grows while
    /// the queue is shorter, shrinks in proportion while longer. Grows only while the transfer
    /// actually uses the rate, so an idle or window-limited transfer does not wind it up.
    mutating func cruise(_ elapsed: Double, throughput: Double?, queuing: Duration?) {
        let setpoint = configuration.cruiseQueuingDelay.seconds
        var offTarget: Double
        if let queuing {
            offTarget = setpoint > 0 ? (setpoint - queuing.seconds) / setpoint : (queuing > .zero ? -1 : 1)
        } else {
            offTarget = sawDelay ? 0 : 1
        }
        offTarget = min(1, max(-4, offTarget))
        if offTarget > 0, (throughput ?? 0) < rate * 0.8 { offTarget = 0 }
        rate *= exp(configuration.delayGain * offTarget * elapsed)
    }
}
