import Foundation
import Logging
@testable import PiggybackAgent
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Other programs' short communication, which no poll sees: the kernel's socket-destroy
/// announcements must report it, and must not report loopback or the agent's own traffic.
/// Real namespaces and real processes (root; skipped without it unless CI=true).
@Suite(.serialized) struct MonitorShortTrafficTests {
    /// A long tick, so that only the destroy announcements can explain a quick detection.
    static let slowTick = Duration.seconds(30)

    static func online(_ network: MonitorNetwork) throws {
        try network.agentIP("link", "set", network.agentLink, "up")
        try network.agentIP("route", "add", "default", "via", network.peerAddress)
        try network.agentIP("-6", "route", "add", "default", "via", network.peerAddress6)
    }

    @Test func aConnectionOfMillisecondsIsNoticedAtItsEnd() async throws {
        try await MonitorNamespaceTests().withMonitor(interval: Self.slowTick, prepare: Self.online) { network, monitor, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            let source = await monitor.state.foreignTrafficSource
            #expect(source == "sock_diag")
            let listener = try await network.listen()
            defer { close(listener.fd) }
            let started = ContinuousClock.now
            try network.shortForeignConnection(to: network.peerAddress, port: listener.port)
            let expected = MonitorEvent.foreignTraffic(remote: "\(network.peerAddress):\(listener.port)")
            let found = await log.wait { $0 == expected }
            let arrived = try #require(found, "a short connection of another process went unnoticed")
            print("monitor: short foreign connection → .foreignTraffic in \(arrived.at - started) (includes spawning ip netns exec)")
            #expect(await monitor.state.socketEnds >= 1)
        }
    }

    @Test func anIPv6ConnectionIsNoticed() async throws {
        try await MonitorNamespaceTests().withMonitor(interval: Self.slowTick, prepare: Self.online) { network, _, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            let listener = try await MonitorNetwork.listen(on: network.peerAddress6, in: network.peerPath)
            defer { close(listener.fd) }
            try network.shortForeignConnection(to: network.peerAddress6, port: listener.port)
            let expected = MonitorEvent.foreignTraffic(remote: "[\(network.peerAddress6)]:\(listener.port)")
            #expect(await log.wait { $0 == expected } != nil,
                    "a short IPv6 connection of another process went unnoticed")
        }
    }

    @Test func aConnectedUDPSocketIsNoticed() async throws {
        try await MonitorNamespaceTests().withMonitor(interval: Self.slowTick, prepare: Self.online) { network, _, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            // A DNS-style datagram: bash connects a UDP socket, sends, and closes it.
            try network.foreignScript("exec 3<>/dev/udp/\(network.peerAddress)/53; echo ping >&3; exec 3>&-")
            let expected = MonitorEvent.foreignTraffic(remote: "\(network.peerAddress):53")
            #expect(await log.wait { $0 == expected } != nil,
                    "a connected UDP socket of another process went unnoticed")
        }
    }

    @Test func loopbackIsNeverForeignTraffic() async throws {
        try await MonitorNamespaceTests().withMonitor(interval: .milliseconds(200), prepare: Self.online) { network, monitor, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            let local = try await MonitorNetwork.listen(on: "127.0.0.1", in: network.agentPath)
            defer { close(local.fd) }
            let local6 = try await MonitorNetwork.listen(on: "::1", in: network.agentPath)
            defer { close(local6.fd) }
            let before = await monitor.state
            for _ in 0..<3 {
                try network.shortForeignConnection(to: "127.0.0.1", port: local.port)
                try network.shortForeignConnection(to: "::1", port: local6.port)
            }
            try network.foreignScript("exec 3<>/dev/tcp/127.0.0.1/\(local.port); sleep 0.6; exec 3>&-")
            // A control that must be seen, after the loopback ones: when it arrives, the
            // loopback announcements (earlier, on the same socket) have been read.
            let listener = try await network.listen()
            defer { close(listener.fd) }
            try network.shortForeignConnection(to: network.peerAddress, port: listener.port)
            let expected = MonitorEvent.foreignTraffic(remote: "\(network.peerAddress):\(listener.port)")
            #expect(await log.wait { $0 == expected } != nil)
            let reported = await log.entries.compactMap { entry -> String? in
                if case .foreignTraffic(let remote) = entry.event { remote } else { nil }
            }
            #expect(reported == ["\(network.peerAddress):\(listener.port)"], "loopback reported as foreign traffic")
            #expect(await monitor.state.socketEnds - before.socketEnds == 1, "the kernel filter let loopback through")
        }
    }

    @Test func theAgentsOwnTrafficNeverCounts() async throws {
        let own = OwnTraffic(grace: .milliseconds(500))
        try await MonitorNamespaceTests().withMonitor(interval: .milliseconds(200), ownTraffic: own, prepare: Self.online) { network, monitor, log in
            #expect(await log.wait { $0 == .online(interface: network.agentLink) } != nil)
            let listener = try await network.listen()
            defer { close(listener.fd) }
            // During a session (activity), even a short connection of this process is ours.
            try await own.withActivity {
                close(try await network.connectFromThisProcess(port: listener.port))
                try await Task.sleep(for: .milliseconds(300))
            }
            // A registered port (gpsd's way) is ours whenever it ends.
            let held = try await network.connectFromThisProcess(port: listener.port)
            own.register(.tcp, localPort: try Self.localPort(of: held))
            try await Task.sleep(for: .milliseconds(700))  // past the grace
            let ends = await monitor.state.socketEnds
            close(held)
            // Then another program's connection, which must be the only one reported.
            try network.shortForeignConnection(to: network.peerAddress, port: listener.port)
            let foreign = await log.wait { if case .foreignTraffic = $0 { true } else { false } }
            #expect(foreign?.event != nil)
            #expect(await monitor.state.socketEnds >= ends + 2, "the held connection's end was not announced")
            let reported = await log.entries.compactMap { entry -> MonitorEvent? in
                if case .foreignTraffic = entry.event { entry.event } else { nil }
            }
            #expect(reported.count == 1, "the agent's own connections were reported: \(reported)")
        }
    }

    static func localPort(of fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        try #require(named == 0)
        return UInt16(bigEndian: address.sin_port)
    }
}
