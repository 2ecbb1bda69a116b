import Foundation
import Logging
import ServiceLifecycle

/// The resident agent: waits for triggers (network up, foreign traffic, timer, manual),
/// debounces them, respects the minimum interval and jitter, reads the conditions, and
/// runs one session per burst. Serves the control socket for `trigger` and `status`.
public struct AgentDaemon: Service {
    let agent: Agent
    let triggers: TriggerConfiguration
    let conditions: ConditionsConfiguration
    let signals: AsyncStream<MonitorEvent>
    /// Where sessions are marked as the agent's own traffic, so that the monitor does not
    /// take their connections' ends for the user's.
    let ownTraffic: OwnTraffic
    let logger: Logger
    /// The daemon's status, shared with the control socket.
    public let status = DaemonStatusBox()
    let inbox = TriggerInbox()

    /// Creates the daemon; `signals` is the communication monitor's ``CommunicationMonitor/events``.
    public init(
        agent: Agent, triggers: TriggerConfiguration, conditions: ConditionsConfiguration, signals: AsyncStream<MonitorEvent>,
        ownTraffic: OwnTraffic = .process, logger: Logger
    ) {
        self.agent = agent
        self.ownTraffic = ownTraffic
        self.triggers = triggers
        self.conditions = conditions
        self.signals = signals
        self.logger = logger
    }

    /// The control socket's path for a data directory.
    public static func controlPath(dataDirectory: URL) -> String {
        dataDirectory.appendingPathComponent("control.sock").path
    }

    public func run() async throws {
        do {
            try await runUntilShutdown()
        } catch is CancellationError {
            // Graceful shutdown cancels the wait or the session: that is a clean stop.
        }
    }

    func runUntilShutdown() async throws {
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                let control = ControlServer(
                    path: Self.controlPath(dataDirectory: agent.configuration.dataDirectory), logger: logger, consent: agent.consent
                ) { command in
                    await answer(command)
                }
                group.addTask { try await control.run() }
                group.addTask { await watch() }
                if let every = triggers.timer {
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: every)
                            inbox.fire(.timer)
                        }
                    }
                }
                try await loop()
                group.cancelAll()
            }
        }
    }

    /// Turns the monitor's signals into triggers and status.
    func watch() async {
        var online: String?
        for await signal in signals {
            let now = Date()
            switch signal {
            case .online(let interface):
                await status.update { $0.network = "online"; $0.interface = interface; $0.lastEvent = "network-up \(interface)"; $0.lastEventAt = now }
                // A new network (or the route moving from Wi-Fi to LTE) is worth a session.
                if online != interface { inbox.fire(.networkUp) }
                online = interface
            case .offline:
                await status.update { $0.network = "offline"; $0.interface = nil; $0.lastEvent = "network-down"; $0.lastEventAt = now }
                online = nil
            case .foreignTraffic(let remote):
                await status.update { $0.lastEvent = "foreign-traffic \(remote)"; $0.lastEventAt = now }
                if online != nil { inbox.fire(.foreignTraffic) }
            }
        }
    }

    func answer(_ command: ControlServer.Command) async -> String {
        switch command {
        case .trigger:
            guard triggers.manual else { return "error: manual triggers are disabled in this agent's configuration" }
            inbox.fire(.manual)
            return "ok: session requested"
        case .status:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            var snapshot = await status.status
            let transfers = await agent.transfers.current
            snapshot.transfers = transfers.isEmpty ? nil : transfers
            return (try? String(decoding: encoder.encode(snapshot), as: UTF8.self)) ?? "{}"
        }
    }

    /// One session per burst of triggers.
    func loop() async throws {
        let clock = ContinuousClock()
        var lastEnded: ContinuousClock.Instant?
        for await _ in inbox.wakes {
            var kinds = inbox.take().filter(triggers.enables)
            guard !kinds.isEmpty else { continue }
            try await Task.sleep(for: triggers.debounce)
            kinds.formUnion(inbox.take().filter(triggers.enables))
            let delay = triggers.delay(for: kinds, lastSessionEnded: lastEnded, now: clock.now, jitterFraction: Double.random(in: 0...1))
            if delay > .zero {
                await status.update { $0.nextSessionAt = Date().addingTimeInterval(delay.seconds) }
                kinds.formUnion(try await wait(delay))
            }
            let network = await status.status
            if network.network == "offline" && !kinds.contains(.manual) {
                logger.debug("triggers while offline ignored", metadata: ["kinds": "\(kinds)"])
                await status.update { $0.nextSessionAt = nil }
                continue
            }
            let read = ConditionProbe(configuration: conditions).read(interface: network.interface)
            let policy = conditions.policy(for: read)
            let started = Date()
            let sortedKinds = kinds.sorted().map(\.rawValue)
            await status.update {
                $0.lastTrigger = .init(kinds: sortedKinds, at: started)
                $0.conditions = read
                $0.policy = policy
                $0.busy = true
                $0.nextSessionAt = nil
            }
            logger.info("session triggered", metadata: ["by": "\(sortedKinds.joined(separator: ","))", "policy": "\(policy.reason)"])
            var record = DaemonStatus.Session(started: started, ended: started, result: "ok")
            do {
                let report = try await ownTraffic.withActivity { try await agent.runSession(policy: policy) }
                record.server = report.server
                record.serverReason = report.serverReason
                record.summary = "inventory: \(report.inventory); received: \(report.delivered.count); deferred: \(report.deferred.count); collected: \(report.collected.count)"
            } catch is CancellationError {
                record.result = "abandoned (shutdown); transfers resume next time"
            } catch let error as AgentError {
                record.result = "\(error.code.rawValue): \(error.message)"
            } catch {
                record.result = "\(error)"
            }
            record.ended = Date()
            MemoryTrim.release()
            let finished = record
            await status.update { $0.busy = false; $0.lastSession = finished }
            logger.info("session ended", metadata: ["result": "\(finished.result)"])
            lastEnded = clock.now
            try Task.checkCancellation()
        }
    }

    /// Waits `delay`, ending early when a manual trigger arrives; returns the triggers seen.
    func wait(_ delay: Duration) async throws -> Set<TriggerKind> {
        var seen: Set<TriggerKind> = []
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: min(.milliseconds(250), deadline - ContinuousClock.now))
            seen.formUnion(inbox.take().filter(triggers.enables))
            if seen.contains(.manual) { break }
        }
        return seen
    }
}
