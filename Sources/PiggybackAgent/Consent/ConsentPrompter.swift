import Logging

/// Asks the user whether to download an offer now, every available way at once, the first
/// answer winning: a desktop notification with actions when a graphical session exists;
/// the control socket's question (`piggyback agent consent`) when a broker is given (the
/// resident daemon); a prompt on the terminal for a one-shot agent run interactively. After
/// the timeout — or at once when there is no way to ask — the configured default.
public struct ConsentPrompter: Sendable {
    let configuration: ConsentConfiguration
    let broker: ConsentBroker?
    let logger: Logger

    /// Creates a prompter; `broker` is the daemon's, shared with its control socket.
    public init(configuration: ConsentConfiguration, broker: ConsentBroker?, logger: Logger) {
        self.configuration = configuration
        self.broker = broker
        self.logger = logger
    }

    /// One way of asking ended: with an answer, or without (it could not ask, or was closed).
    enum Reply: Sendable {
        case answered(ConsentDecision)
        case ended(String)
        case deadline
        case cancelled
    }

    /// Asks about `items` and returns the decision; never longer than the timeout (plus the
    /// second it may take to withdraw the notification).
    public func ask(_ items: [ConsentItem]) async -> ConsentDecision {
        let deadline = ContinuousClock.now.advanced(by: configuration.timeout)
        let fallback = configuration.defaultAnswer
        var desktop = configuration.desktop
        if desktop == nil && configuration.detectDesktop {
            desktop = await BlockingWork.run(name: "piggyback-desktop-detect") { _ in DesktopSession.detect() }
        }
        logger.info("asking the user about offered downloads", metadata: [
            "items": "\(items.map { "\($0.name)@\($0.version)" }.joined(separator: ","))",
            "desktop": "\(desktop.map { $0.user ?? "own session" } ?? "none")",
            "controlSocket": "\(broker != nil)", "terminal": "\(configuration.interactiveTerminal)",
            "timeout": "\(configuration.timeout)", "default": "\(fallback.rawValue)",
        ])
        let decision = await withTaskGroup(of: Reply.self) { group -> ConsentDecision in
            var ways = 0
            if let desktop {
                ways += 1
                let notification = DesktopNotification(session: desktop, notifySend: configuration.notifySend, logger: logger)
                group.addTask {
                    await notification.ask(items, until: deadline).map { .answered(.init(answer: $0, via: ConsentDecision.viaDesktop)) } ?? .ended(ConsentDecision.viaDesktop)
                }
            }
            if let broker {
                ways += 1
                group.addTask {
                    let answer = await broker.ask(items, timeout: ContinuousClock.now.duration(to: deadline), defaultAnswer: fallback)
                    return answer.map { .answered(.init(answer: $0, via: ConsentDecision.viaControlSocket)) } ?? .ended(ConsentDecision.viaControlSocket)
                }
            }
            if configuration.interactiveTerminal {
                ways += 1
                let prompt = TerminalPrompt(items: items, defaultAnswer: fallback)
                group.addTask {
                    await prompt.ask(until: deadline).map { .answered(.init(answer: $0, via: ConsentDecision.viaTerminal)) } ?? .ended(ConsentDecision.viaTerminal)
                }
            }
            guard ways > 0 else { return ConsentDecision(answer: fallback, via: ConsentDecision.viaNoAnswer) }
            group.addTask {
                do {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return .deadline
                } catch {
                    return .cancelled
                }
            }
            var ended = 0
            while let reply = await group.next() {
                switch reply {
                case .answered(let decision):
                    group.cancelAll()
                    return decision
                case .deadline:
                    group.cancelAll()
                    return ConsentDecision(answer: fallback, via: ConsentDecision.viaTimeout)
                case .cancelled:
                    group.cancelAll()
                    return ConsentDecision(answer: fallback, via: ConsentDecision.viaCancelled)
                case .ended(let way):
                    ended += 1
                    logger.debug("one way of asking ended without an answer", metadata: ["via": "\(way)"])
                    guard ended == ways else { continue }
                    group.cancelAll()
                    if Task.isCancelled { return ConsentDecision(answer: fallback, via: ConsentDecision.viaCancelled) }
                    let late = ContinuousClock.now >= deadline
                    return ConsentDecision(answer: fallback, via: late ? ConsentDecision.viaTimeout : ConsentDecision.viaNoAnswer)
                }
            }
            return ConsentDecision(answer: fallback, via: ConsentDecision.viaCancelled)
        }
        logger.info("offered downloads: \(decision.answer.rawValue)", metadata: ["via": "\(decision.via)"])
        return decision
    }
}
