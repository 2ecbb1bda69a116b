import Logging
import PiggybackAgent
import ServiceLifecycle

/// Runs the communication monitor and passes its events to the daemon as signals.
struct MonitorBridge: Service {
    let feed: AsyncStream<NetworkSignal>.Continuation
    let logger: Logger

    func run() async throws {
        // The netlink monitor is wired in here once it lands; until then the daemon
        // answers manual and timer triggers only.
        try await gracefulShutdown()
        feed.finish()
    }
}
