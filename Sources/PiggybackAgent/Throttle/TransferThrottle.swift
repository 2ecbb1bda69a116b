import Logging

/// One transfer's throttle: samples the load every `interval` while the transfer runs, lets
/// the rate controller decide, and paces the chunk loop accordingly.
///
/// Wiring (download): `during { … }` around the 1030/70 loop; after each chunk `moved(bytes:)`,
/// `answered()`, then `try await pace(bytes:)` before the 70 and `sent()` after it (the first
/// 70 with `sent(count: window)`). Upload: `pace(bytes:)` before each 50, `sent()` after it,
/// `answered()` and `moved(bytes:)` on each 1070. Between transfers nothing runs.
public actor TransferThrottle<C: Clock> where C.Duration == Duration {
    /// Sampler, controller and pacer settings.
    public let configuration: ThrottleConfiguration
    /// The clock sampling and pacing run on.
    public nonisolated let clock: C
    let logger: Logger

    private var sampler: LoadSampler<C.Instant>
    private var controller: RateController<C.Instant>
    private var pacer: Pacer<C>
    private var timer = RoundTripTimer<C.Instant>()
    private var movedTotal: UInt64 = 0
    private var movedSinceUpdate = 0
    private var socket: Int32?
    private var metered = false
    private var onBattery = false
    private var sampling: Task<Void, Never>?

    /// The signals of the latest sample.
    public private(set) var signals = LoadSignals()
    /// What the controller allows now, and why.
    public var decision: RateDecision { controller.decision }

    /// A throttle at the controller's initial rate; nothing runs until `start` or `during`.
    public init(configuration: ThrottleConfiguration = ThrottleConfiguration(), clock: C, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        sampler = LoadSampler(configuration: configuration.sampler)
        controller = RateController(configuration: configuration.controller)
        pacer = Pacer(clock: clock, rate: controller.decision.bytesPerSecond, burst: configuration.burst)
    }

    /// Runs `body` (the transfer) with sampling on, and stops sampling when it returns or throws.
    public func during<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        await start()
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    /// Starts sampling every `interval` (no-op when running or disabled).
    public func start() {
        guard configuration.enabled, sampling == nil else { return }
        let interval = configuration.sampler.interval
        let clock = clock
        sampling = Task { [weak self] in
            while !Task.isCancelled {
                do { try await clock.sleep(for: interval) } catch { return }
                guard let self else { return }
                await self.tick()
            }
        }
    }

    /// Stops sampling.
    public func stop() {
        sampling?.cancel()
        sampling = nil
    }

    /// Our payload moved: a chunk received (download) or acknowledged (upload).
    public func moved(bytes: Int) {
        movedTotal &+= UInt64(max(0, bytes))
        movedSinceUpdate += max(0, bytes)
    }

    /// `count` messages went that will each be answered (see `RoundTripTimer`).
    public func sent(count: Int = 1) {
        timer.sent(at: clock.now, count: count)
    }

    /// The answer to the oldest outstanding message arrived.
    public func answered() {
        timer.answered(at: clock.now)
    }

    /// The gates as the monitor sees them now.
    public func setConditions(metered: Bool, onBattery: Bool) {
        self.metered = metered
        self.onBattery = onBattery
    }

    /// The session's TCP socket, or nil: with it, the kernel's RTT (TCP_INFO) is the delay
    /// signal instead of the acknowledgements' round trip (the two are never mixed, their
    /// baselines differ), and its byte counters are our own traffic.
    public func watch(socket descriptor: Int32?) {
        socket = descriptor
    }

    /// How long until the pacer lets the next bytes go.
    public func nextDelay() -> Duration {
        configuration.enabled ? pacer.delay(at: clock.now) : .zero
    }

    /// Charges `bytes` and waits until the rate allows them, re-reading the rate at every
    /// sampling interval so a rise takes effect at once. Throws when cancelled.
    public func pace(bytes: Int) async throws {
        guard configuration.enabled else { return }
        pacer.charge(bytes, at: clock.now)
        while true {
            let now = clock.now
            let pause = pacer.delay(at: now)
            guard pause > .zero else { return }
            try await clock.sleep(until: now.advanced(by: min(pause, configuration.sampler.interval)), tolerance: nil)
        }
    }

    /// One sample: signals → controller → pacer. Called by the sampling task.
    @discardableResult
    func tick() -> RateDecision {
        let now = clock.now
        var own = movedTotal
        var delay = timer.takeMinimum()
        if let socket {
            do {
                let info = try TCPInfo(descriptor: socket)
                if let bytes = info.payloadBytes { own = bytes }
                delay = info.rtt
            } catch {
                logger.debug("no TCP_INFO; using acknowledgement round trips", metadata: ["error": "\(error)"])
                self.socket = nil
            }
        }
        var sample = sampler.sample(at: now, ownBytes: own, delay: delay)
        sample.metered = metered
        sample.onBattery = onBattery
        signals = sample
        let previous = controller.decision.reason
        let decision = controller.update(at: now, signals: sample, movedBytes: movedSinceUpdate)
        movedSinceUpdate = 0
        pacer.setRate(decision.bytesPerSecond, at: now)
        if decision.reason != previous {
            logger.debug("transfer rate", metadata: ["rate": "\(decision)", "signals": "\(summary)"])
        }
        return decision
    }

    /// One line for `agent status`: the decision, then the signals behind it.
    public var summary: String {
        var parts = [decision.description]
        if let foreign = signals.foreignBytesPerSecond { parts.append("foreign \(RateDecision.format(rate: foreign))") }
        if let busy = signals.cpuBusy { parts.append("CPU others \(Int((busy * 100).rounded())) %") }
        if let pressure = signals.cpuPressure { parts.append("CPU pressure \(Int((pressure * 100).rounded())) %") }
        return parts.joined(separator: "; ")
    }
}

extension TransferThrottle where C == ContinuousClock {
    /// A throttle on the continuous clock (the agent's normal case).
    public init(configuration: ThrottleConfiguration = ThrottleConfiguration(), logger: Logger) {
        self.init(configuration: configuration, clock: ContinuousClock(), logger: logger)
    }
}
