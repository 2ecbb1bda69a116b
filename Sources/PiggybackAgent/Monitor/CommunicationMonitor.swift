import Foundation
import Logging
import ServiceLifecycle
#if canImport(Glibc)
import Glibc
#endif

/// Notices when the terminal gets connectivity and when another application starts talking,
/// so the agent can ride along on the user's connection.
///
/// Event-driven: a NETLINK_ROUTE socket on a thread of its own wakes only on link, address
/// and route changes; "online" means a usable default route (see ``MonitorConfiguration``).
/// While online, and only then, the TCP tables are read every `foreignTrafficInterval` for
/// connections opened by other processes; while offline nothing is polled. Run it as a
/// `Service` (until cancelled or graceful shutdown) and consume ``events`` (one consumer).
/// Linux only: elsewhere `run()` throws ``MonitorError/Code/unsupported``.
public actor CommunicationMonitor: Service {
    /// What is watched.
    public nonisolated let configuration: MonitorConfiguration
    /// What the monitor noticed, in order; ends when `run()` returns. Keeps the newest 64
    /// when nobody reads.
    public nonisolated let events: AsyncStream<MonitorEvent>
    private let continuation: AsyncStream<MonitorEvent>.Continuation
    private let logger: Logger
    private var current = MonitorState()
    private var foreignPolling: Task<Void, Never>?
    private var started = false

    /// Creates a monitor; nothing is opened until `run()`.
    public init(configuration: MonitorConfiguration = MonitorConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: MonitorEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// What the monitor believes now and what it last reported, for `agent status`.
    public var state: MonitorState { current }

    /// Watches until the task is cancelled or graceful shutdown begins, then ends ``events``.
    /// Throws when the netlink socket cannot be set up. Runs once per monitor.
    public func run() async throws {
        guard !started else {
            throw MonitorError(.netlink, "this CommunicationMonitor has already run; create a new one to watch again")
        }
        started = true
        defer {
            foreignPolling?.cancel()
            foreignPolling = nil
            continuation.finish()
        }
        #if os(Linux)
        let watcher = try await ConnectivityWatcher.start(namespace: configuration.networkNamespace, logger: logger)
        current.watcherThread = watcher.threadID
        defer {
            watcher.stop()
            current.watcherThread = nil
        }
        let table = await foreignTrafficTable()
        try await cancelWhenGracefulShutdown {
            for await connectivity in watcher.updates {
                await self.apply(connectivity, table: table)
            }
            guard Task.isCancelled else {
                throw MonitorError(.netlink, "the netlink watcher stopped on its own; see the log for why, then restart the agent")
            }
        }
        #else
        throw MonitorError(.unsupported, "the communication monitor needs Linux (netlink); use the timer trigger on this platform")
        #endif
    }

    #if os(Linux)
    /// The TCP tables, when foreign traffic is watched; nil (and a warning) when unreadable.
    private func foreignTrafficTable() async -> TCPConnectionTable? {
        guard configuration.foreignTraffic else { return nil }
        do {
            return try await TCPConnectionTable.open(namespace: configuration.networkNamespace)
        } catch {
            logger.warning("foreign-traffic trigger disabled", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func apply(_ connectivity: Connectivity, table: TCPConnectionTable?) {
        let now = Date()
        let first = !current.ready
        current.ready = true
        switch connectivity {
        case .online(let interface):
            guard first || !current.online || current.interface != interface else { return }
            let wasOnline = current.online
            current.online = true
            current.interface = interface
            current.since = now
            logger.info("online", metadata: ["interface": "\(interface)"])
            if configuration.networkUp { emit(.online(interface: interface), at: now) }
            if !wasOnline, let table { startForeignPolling(table) }
        case .offline:
            guard first || current.online else { return }
            current.online = false
            current.interface = nil
            current.since = now
            foreignPolling?.cancel()
            foreignPolling = nil
            if !first {
                logger.info("offline")
                if configuration.networkUp { emit(.offline, at: now) }
            }
        }
    }

    private func startForeignPolling(_ table: TCPConnectionTable) {
        foreignPolling?.cancel()
        let watcher = ForeignTrafficWatcher(
            table: table, interval: configuration.foreignTrafficInterval,
            ignoredUser: configuration.ignoreOwnUser ? getuid() : nil, logger: logger
        )
        foreignPolling = Task {
            await watcher.run(
                onPoll: { await self.countPoll(scanned: $0) },
                onForeign: { await self.foreignTraffic($0) }
            )
        }
    }

    private func countPoll(scanned: Bool) {
        guard !Task.isCancelled else { return }  // a read that raced with going offline
        current.foreignTrafficPolls += 1
        if scanned { current.foreignTrafficScans += 1 }
    }

    private func foreignTraffic(_ connection: TCPConnection) {
        guard current.online, !Task.isCancelled else { return }
        logger.debug("foreign traffic", metadata: ["remote": "\(connection.remote)", "uid": "\(connection.uid)"])
        emit(.foreignTraffic(remote: connection.remote), at: Date())
    }
    #endif

    private func emit(_ event: MonitorEvent, at time: Date) {
        current.lastEvent = event
        current.lastEventAt = time
        continuation.yield(event)
    }
}
