import Logging
import PiggybackAgent
import ServiceLifecycle

/// Collects the inventory at start and then on a timer, offline or not, so that what
/// changed is recorded when it changed and a session finds a recent collection ready.
struct InventoryTimer: Service {
    let agent: Agent
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels the sleep: a clean stop, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let outcome = try await agent.recordInventory()
                    MemoryTrim.release()
                    let failed = outcome.sections.filter { !$0.failed.isEmpty }.map(\.name)
                    logger.info("inventory collected", metadata: [
                        "changes": "\(outcome.first ? "first collection" : String(outcome.changes.count))",
                        "failed_sections": "\(failed.joined(separator: ","))",
                    ])
                } catch {
                    logger.warning("inventory collection failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: agent.configuration.inventoryInterval)
            }
        }
    }
}
