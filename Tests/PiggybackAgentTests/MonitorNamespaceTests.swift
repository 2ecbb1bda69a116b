import Foundation
import Logging
@testable import PiggybackAgent
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The communication monitor against the real kernel, inside network namespaces made per
/// test (root; skipped without it unless CI=true).
@Suite(.serialized) struct MonitorNamespaceTests {
    static let logger: Logger = {
        var logger = Logger(label: "monitor-test")
        logger.logLevel = .debug
        return logger
    }()

    /// Runs `body` with a fresh namespace pair and a running monitor inside the agent's side.
    func withMonitor(
        interval: Duration = .milliseconds(200),
        ownTraffic: OwnTraffic = OwnTraffic(),
        prepare: (MonitorNetwork) throws -> Void = { _ in },
        _ body: (MonitorNetwork, CommunicationMonitor, MonitorEventLog) async throws -> Void
    ) async throws {
        guard MonitorNetwork.available() else { return }
        let network = try MonitorNetwork.create()
        defer { network.destroy() }
        try prepare(network)
        let configuration = MonitorConfiguration(foreignTrafficInterval: interval, networkNamespace: network.agentPath)
        let monitor = CommunicationMonitor(configuration: configuration, ownTraffic: ownTraffic, logger: Self.logger)
        let log = MonitorEventLog()
        let recording = log.record(monitor.events)
        let running = Task { try await monitor.run() }
        defer { running.cancel(); recording.cancel() }
        try #require(await monitor.waitUntilReady(), "the monitor did not read the routing table")
        try await body(network, monitor, log)
        running.cancel()
        try? await running.value
        await recording.value  // the stream ends with run()
    }

    @Test func linkUpAndDefaultRouteBringOnline() async throws {
        try await withMonitor { network, monitor, log in
            #expect(await monitor.state.online == false)
            try network.agentIP("link", "set", network.agentLink, "up")
            try await Task.sleep(for: .milliseconds(300))
            #expect(await log.entries.isEmpty, "a link without a default route is not online")

            let added = ContinuousClock.now
            try network.agentIP("route", "add", "default", "via", network.peerAddress)
            let online = await log.wait { $0 == .online(interface: network.agentLink) }
            let arrived = try #require(online, "no .online after the default route was added")
            print("monitor: route added → .online in \(arrived.at - added) (includes spawning ip)")
            let state = await monitor.state
            #expect(state.online && state.interface == network.agentLink && state.lastEvent == arrived.event)
        }
    }

    @Test func ipv6DefaultRouteAloneBringsOnline() async throws {
        try await withMonitor { network, _, log in
            try network.agentIP("link", "set", network.agentLink, "up")
            try network.agentIP("-6", "route", "add", "default", "via", network.peerAddress6)
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
        }
    }

    @Test func losingTheRouteGoesOfflineAndStopsPolling() async throws {
        try await withMonitor(prepare: { network in
            try network.agentIP("link", "set", network.agentLink, "up")
            try network.agentIP("route", "add", "default", "via", network.peerAddress)
        }) { network, monitor, log in
            // Online from the start: the first verdict is reported.
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            #expect(await Self.pollsReach(monitor, 2), "polling runs while online")

            try network.agentIP("route", "del", "default")
            #expect(await log.wait { $0 == .offline } != nil, "no .offline after the route was deleted")
            let pollsWhenOffline = await monitor.state.foreignTrafficPolls
            try await Task.sleep(for: .milliseconds(1500))
            #expect(await monitor.state.foreignTrafficPolls == pollsWhenOffline, "nothing is polled while offline")

            // Back online, then the link goes down with the route still configured: the kernel
            // flushes the route without a RTM_DELROUTE, and the fresh dump still sees it.
            let mark = await log.entries.count
            try network.agentIP("route", "add", "default", "via", network.peerAddress)
            #expect(await log.wait(after: mark) { $0 == .online(interface: network.agentLink) } != nil)
            #expect(await Self.pollsReach(monitor, pollsWhenOffline + 1), "polling resumes when online again")
            try network.agentIP("link", "set", network.agentLink, "down")
            #expect(await log.wait(after: mark) { $0 == .offline } != nil, "no .offline after the link went down")
            #expect(await monitor.state.online == false)
        }
    }

    @Test func anotherProcessConnectingIsForeignTrafficButOursIsNot() async throws {
        try await withMonitor(prepare: { network in
            try network.agentIP("link", "set", network.agentLink, "up")
            try network.agentIP("route", "add", "default", "via", network.peerAddress)
        }) { network, monitor, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            let listener = try await network.listen()
            defer { close(listener.fd) }

            // Our own connection, in the same namespace, must not count.
            let own = try await network.connectFromThisProcess(port: listener.port)
            defer { close(own) }
            let polls = await monitor.state.foreignTrafficPolls
            try await Task.sleep(for: .milliseconds(1500))
            // Polls went on (7 expected at 200 ms; a loaded, fully parallel test run manages fewer).
            #expect(await monitor.state.foreignTrafficPolls >= polls + 1)
            #expect(await log.entries.allSatisfy { if case .foreignTraffic = $0.event { false } else { true } },
                    "the agent's own connection was reported as foreign")

            let started = ContinuousClock.now
            let client = try network.foreignClient(port: listener.port)
            defer { kill(client.processIdentifier, SIGKILL); client.waitUntilExit() }  // SIGTERM may be inherited as ignored
            let expected = MonitorEvent.foreignTraffic(remote: "\(network.peerAddress):\(listener.port)")
            let found = await log.wait { $0 == expected }
            let arrived = try #require(found, "no .foreignTraffic for another process's connection")
            print("monitor: foreign connection → .foreignTraffic in \(arrived.at - started) (poll interval 200 ms, includes spawning ip netns exec)")
        }
    }

    @Test func quietLinksAreNotScanned() async throws {
        try await withMonitor(prepare: { network in
            // No IPv6 on the agent's side: no router solicitations or MLD reports to send.
            try MonitorNetwork.run(MonitorNetwork.ipTool ?? "/usr/sbin/ip", ["netns", "exec", network.agent, "sh", "-c",
                                   "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"])
            try network.agentIP("link", "set", network.agentLink, "up")
            try network.agentIP("route", "add", "default", "via", network.peerAddress)
        }) { network, monitor, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            try await Task.sleep(for: .milliseconds(500))
            let before = await monitor.state
            try await Task.sleep(for: .milliseconds(1500))
            let after = await monitor.state
            // At least a couple of polls (7 expected; fewer when the machine is loaded).
            #expect(after.foreignTrafficPolls >= before.foreignTrafficPolls + 2)
            #expect(after.foreignTrafficScans == before.foreignTrafficScans, "the TCP tables were read though nothing was sent")
        }
    }

    @Test func offlineMonitorDoesNotWakeUp() async throws {
        try await withMonitor { _, monitor, log in
            // This monitor's own thread: other suites run monitors of their own meanwhile.
            let thread = try #require(await monitor.state.watcherThread, "the monitor names no watcher thread")
            let traffic = try #require(await monitor.state.trafficThread, "the monitor names no foreign-traffic thread")
            try await Task.sleep(for: .milliseconds(200))
            let before = try #require(Self.contextSwitches(of: thread), "no thread \(thread) in /proc/self/task")
            let trafficBefore = try #require(Self.contextSwitches(of: traffic), "no thread \(traffic) in /proc/self/task")
            try await Task.sleep(for: .seconds(2))
            #expect(Self.contextSwitches(of: thread) == before, "the netlink thread woke up while nothing changed")
            #expect(Self.contextSwitches(of: traffic) == trafficBefore, "the foreign-traffic thread woke up while offline")
            #expect(await monitor.state.foreignTrafficPolls == 0)
            #expect(await log.entries.isEmpty)
        }
    }

    /// Voluntary plus involuntary context switches of one of our threads, from its status.
    static func contextSwitches(of thread: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/task/\(thread)/status", encoding: .utf8) else { return nil }
        let counts = status.split(separator: "\n").filter { $0.contains("ctxt_switches") }
            .compactMap { Int($0.split(separator: "\t").last ?? "") }
        return counts.count == 2 ? counts.reduce(0, +) : nil
    }

    @Test func stopsWhenCancelledAndEndsItsEvents() async throws {
        try await withMonitor { _, monitor, _ in
            #expect(await monitor.state.ready)
        }
        // withMonitor awaits the recording task, which only ends when `events` finishes.
    }

    /// Waits (up to 10 s, for a loaded test run) until the monitor has polled `count` times.
    static func pollsReach(_ monitor: CommunicationMonitor, _ count: Int) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while ContinuousClock.now < deadline {
            if await monitor.state.foreignTrafficPolls >= count { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
