import Logging
import PiggybackAgent
import ServiceLifecycle

/// The agent as a long-running service: a session now, then one per interval, until
/// graceful shutdown. (The event-driven communication monitor replaces the timer as the
/// main trigger; the timer stays as the fallback.)
struct ResidentAgent: Service {
    let agent: Agent
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let report = try await agent.runSession()
                    logger.info("session ok", metadata: ["server": "\(report.server)", "received": "\(report.delivered)"])
                } catch {
                    logger.warning("session failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
