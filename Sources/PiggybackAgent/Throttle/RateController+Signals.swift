extension RateController {
    /// Foreign traffic above the ignored level (a fixed threshold plus a share of our rate),
    /// or a new TCP connection of someone else's: the user's fetch is yielded to at its
    /// handshake, not once its bytes have shared the queue with ours for a while.
    func isForeign(_ signals: LoadSignals) -> Bool {
        if configuration.yieldToNewConnections, let opened = signals.newConnections, opened > 0 { return true }
        guard let foreign = signals.foreignBytesPerSecond else { return false }
        return foreign > configuration.foreignThreshold + configuration.foreignShare * (signals.ownBytesPerSecond ?? 0)
    }

    /// The congestion signal of this sample, if any, strongest first.
    func congestionReason(_ signals: LoadSignals, queuing: Duration?) -> RateDecision.Reason? {
        if isForeign(signals) { return .foreignTraffic }
        if let queuing, queuing > configuration.targetQueuingDelay { return .delay }
        if let busy = signals.cpuBusy, busy > configuration.cpuBusyThreshold { return .cpu }
        if let pressure = signals.cpuPressure, pressure > configuration.cpuPressureThreshold { return .cpu }
        return nil
    }

    /// Adds a delay sample to the base-delay minimum and returns the queuing delay. Watches
    /// for a route change: a delay above target that stays steady for `rebaseAfter` with
    /// nothing foreign in sight re-learns the base. A queue someone's TCP keeps filling
    /// swings by more than `rebaseMaxSpread` and does not count.
    mutating func observe(delay: Duration?, foreign: Bool, at now: Instant) -> Duration? {
        guard let delay else { return nil }
        sawDelay = true
        baseDelays.add(delay, at: now)
        guard let base = baseDelays.value(at: now) else { return nil }
        let queuing = delay - base
        guard queuing > configuration.targetQueuingDelay, !foreign else {
            elevated = nil
            return queuing
        }
        guard var steady = elevated else {
            elevated = (now, delay, delay)
            return queuing
        }
        steady.low = min(steady.low, delay)
        steady.high = max(steady.high, delay)
        if steady.high - steady.low > configuration.rebaseMaxSpread {
            elevated = (now, delay, delay)  // swinging: a queue, not a route; look again
        } else if steady.since.duration(to: now) >= configuration.rebaseAfter {
            baseDelays.reset(to: steady.low, at: now)
            elevated = nil
            return delay - steady.low
        } else {
            elevated = steady
        }
        return queuing
    }

    /// Feeds the link-rate maximum with throughput achieved without congestion, cap or gate
    /// (a capped or gated throughput says nothing about the link). With no fresh samples the
    /// last estimate stays.
    mutating func learn(_ throughput: Double?, at now: Instant) {
        guard let throughput, throughput > 0, [.startup, .recovering, .cruising].contains(phase),
              [.unlimited, .recovering].contains(decision.reason) else { return }
        linkRates.add(throughput, at: now)
        // The estimate does not age out while we yield (we learn nothing about the link then):
        // it falls only when delay shows the link itself slowed (see `backOff`).
        linkRate = max(linkRates.value(at: now) ?? 0, linkRate ?? 0)
    }

    /// The rate after caps and gates, with the reason that binds.
    func decide(_ signals: LoadSignals, queuing: Duration?, at now: Instant) -> RateDecision {
        var allowed = phase == .probing ? configuration.floorRate : rate
        var reason: RateDecision.Reason
        switch phase {
        case .backedOff: reason = congestion?.reason ?? .delay
        case .startup, .recovering: reason = .recovering
        case .cruising: reason = .unlimited
        case .probing: reason = .probingBaseDelay
        }
        var cap = configuration.maxRate ?? .infinity
        if let linkRate, linkRateSettled, configuration.maxShareOfLink < 1 {
            cap = min(cap, max(configuration.floorRate, linkRate * configuration.maxShareOfLink))
        }
        if cap < allowed {
            allowed = cap
            reason = .cap
        }
        if signals.metered, (configuration.meteredRate ?? configuration.floorRate) < allowed {
            allowed = configuration.meteredRate ?? configuration.floorRate
            reason = .gateMetered
        }
        if signals.onBattery, (configuration.batteryRate ?? configuration.floorRate) < allowed {
            allowed = configuration.batteryRate ?? configuration.floorRate
            reason = .gateBattery
        }
        allowed = max(1, allowed)
        return RateDecision(
            bytesPerSecond: allowed, chunkSize: chunkSize(for: allowed), reason: reason,
            linkRate: linkRate, baseDelay: baseDelays.value(at: now), queuingDelay: queuing)
    }

    /// Bytes the link carries in `chunkDuration` at `rate`, in whole KiB within the limits.
    func chunkSize(for rate: Double) -> Int {
        let bytes = rate * configuration.chunkDuration.seconds
        let kib = Int(min(bytes, Double(configuration.maxChunkSize))) / 1024 * 1024
        return min(configuration.maxChunkSize, max(configuration.minChunkSize, kib))
    }
}
