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
/// While online, and only then, a second thread (``ForeignTrafficWatcher``) listens to the
/// kernel's socket-destroy announcements, which report every connection of another program
/// when it ends, however short, and ticks every `foreignTrafficInterval` to notice one still
/// open; while offline both threads sleep. The agent's own traffic is told apart by
/// ``OwnTraffic``. Run it as a `Service` (until cancelled or graceful shutdown) and consume
/// ``events`` (one consumer).
/// Linux only: elsewhere `run()` throws ``MonitorError/Code/unsupported``.
public actor CommunicationMonitor: Service {
    /// What is watched.
    public nonisolated let configuration: MonitorConfiguration
    /// What the monitor noticed, in order; ends when `run()` returns. Keeps the newest 64
    /// when nobody reads.
    public nonisolated let events: AsyncStream<MonitorEvent>
    private let continuation: AsyncStream<MonitorEvent>.Continuation
    private let logger: Logger
    private let ownTraffic: OwnTraffic
    private var current = MonitorState()
    #if os(Linux)
    private var traffic: ForeignTrafficWatcher?
    #endif
    private var started = false

    /// Creates a monitor; nothing is opened until `run()`. `ownTraffic` tells the agent's own
    /// connections apart (the process's registry, which the daemon marks during sessions).
    public init(configuration: MonitorConfiguration = MonitorConfiguration(), ownTraffic: OwnTraffic = .process, logger: Logger) {
        self.configuration = configuration
        self.ownTraffic = ownTraffic
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: MonitorEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// What the monitor believes now and what it last reported, for `agent status`.
    public var state: MonitorState {
        var state = current
        #if os(Linux)
        if let traffic {
            state.foreignTrafficPolls = traffic.shared.ticks.load(ordering: .relaxed)
            state.foreignTrafficScans = traffic.shared.scans.load(ordering: .relaxed)
            state.socketEnds = traffic.shared.ends.load(ordering: .relaxed)
        }
        #endif
        return state
    }

    /// Watches until the task is cancelled or graceful shutdown begins, then ends ``events``.
    /// Throws when the netlink socket cannot be set up. Runs once per monitor.
    public func run() async throws {
        guard !started else {
            throw MonitorError(.netlink, "this CommunicationMonitor has already run; create a new one to watch again")
        }
        started = true
        defer { continuation.finish() }
        #if os(Linux)
        let watcher = try await ConnectivityWatcher.start(namespace: configuration.networkNamespace, logger: logger)
        current.watcherThread = watcher.threadID
        defer {
            watcher.stop()
            current.watcherThread = nil
        }
        let traffic = await startForeignTraffic()
        defer {
            traffic?.stop()
            current.trafficThread = nil
        }
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                if let traffic {
                    group.addTask {
                        for await sighting in traffic.sightings { await self.foreignTraffic(sighting) }
                    }
                }
                for await connectivity in watcher.updates {
                    await self.apply(connectivity)
                }
                traffic?.stop()
                guard Task.isCancelled else {
                    throw MonitorError(.netlink, "the netlink watcher stopped on its own; see the log for why, then restart the agent")
                }
            }
        }
        #else
        throw MonitorError(.unsupported, "the communication monitor needs Linux (netlink); use the timer trigger on this platform")
        #endif
    }

    #if os(Linux)
    /// The foreign-traffic thread, when that trigger is on; nil (and a warning) when the TCP
    /// tables cannot be opened.
    private func startForeignTraffic() async -> ForeignTrafficWatcher? {
        guard configuration.foreignTraffic else { return nil }
        do {
            let watcher = try await ForeignTrafficWatcher.start(
                namespace: configuration.networkNamespace, interval: configuration.foreignTrafficInterval,
                udp: configuration.foreignUDP, ignoredUser: configuration.ignoreOwnUser ? getuid() : nil,
                ownTraffic: ownTraffic, logger: logger
            )
            traffic = watcher
            current.trafficThread = watcher.threadID
            current.foreignTrafficSource = watcher.source
            return watcher
        } catch {
            logger.warning("foreign-traffic trigger disabled", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func apply(_ connectivity: Connectivity) {
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
            if !wasOnline { traffic?.setOnline(true) }
        case .offline:
            guard first || current.online else { return }
            current.online = false
            current.interface = nil
            current.since = now
            traffic?.setOnline(false)
            if !first {
                logger.info("offline")
                if configuration.networkUp { emit(.offline, at: now) }
            }
        }
    }

    private func foreignTraffic(_ sighting: ForeignTrafficWatcher.Sighting) {
        guard current.online else { return }  // a sighting that raced with going offline
        emit(.foreignTraffic(remote: sighting.remote), at: Date())
    }
    #endif

    private func emit(_ event: MonitorEvent, at time: Date) {
        current.lastEvent = event
        current.lastEventAt = time
        continuation.yield(event)
    }
}
