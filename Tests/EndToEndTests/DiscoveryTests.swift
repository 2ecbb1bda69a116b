import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
@testable import PiggybackAgent
import PiggybackProtocol
import Synchronization
import Testing

/// Finding the server (10 → 1010): the real responder, the locator's three methods and
/// their chain, and the pinned CA overruling a rogue answer. Loopback where possible;
/// broadcast and multicast between network namespaces (root).
@Suite struct DiscoveryTests {
    static let sapporo = (lat: 43.0687, lon: 141.3508)
    static let osaka = (lat: 34.7025, lon: 135.4959)

    static func locator(
        _ methods: [DiscoveryMethod] = [.broadcast], targets: [String] = [], interfaces: [String]? = [],
        timeout: Duration = .seconds(10), group: (any EventLoopGroup)? = nil
    ) -> ServerLocator {
        var logger = Logger(label: "test.discovery")
        logger.logLevel = .warning
        var configuration = DiscoveryConfiguration(methods: methods, broadcastTimeout: timeout, interfaces: interfaces, unicastTargets: targets)
        if let group { configuration.eventLoopGroup = group }
        return ServerLocator(configuration: configuration, logger: logger)
    }

    /// An agent on `directory` (already enrolled) running one session against `url`.
    static func session(_ agent: TestAgent, _ url: String) async throws -> SessionReport {
        var logger = Logger(label: "test.agent")
        logger.logLevel = .critical
        let configuration = AgentConfiguration(
            dataDirectory: agent.directory, servers: [url], collectRoots: [agent.outbox], sessionTimeout: .seconds(60),
            discovery: DiscoveryConfiguration(methods: [.list])  // no broadcast onto the machine's network
        )
        return try await Agent(configuration: configuration, logger: logger).runSession()
    }

    @Test func loopbackDiscoveryLeadsToASession() async throws {
        let port = try await UDPPeer.freePort()
        let server = try await TestServer.start(discoveryPort: port, location: (35.68, 139.76))
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())

        let found = await Self.locator(targets: ["127.0.0.1:\(port)"]).candidates(configured: [], position: nil)
        let first = try #require(found.first)
        #expect(first.url == server.endpoint)
        #expect(first.serverID == server.server.serverID)
        #expect(first.location?.lat == 35.68 && first.location?.lon == 139.76)
        #expect(first.reason.hasPrefix("broadcast: first answer from 127.0.0.1 in "))
        let report = try await Self.session(agent, first.url)
        #expect(report.enrolled)
        try await server.stop()
    }

    @Test func responderNeverAmplifiesIgnoresJunkAndRateLimits() async throws {
        let port = try await UDPPeer.freePort()
        let server = try await TestServer.start(discoveryPort: port)
        let peer = try await UDPPeer.start()
        let responder = try SocketAddress(ipAddress: "127.0.0.1", port: port)

        try await peer.send(DiscoveryDatagram.request(size: 0), to: responder)  // unpadded: the 1010 would be bigger
        try await peer.send([0xde, 0xad, 0xbe, 0xef], to: responder)
        try await peer.send([0, 20, 1, 2, 3], to: responder)  // a 20 with a broken body
        try await Task.sleep(for: .milliseconds(300))
        #expect(peer.received.isEmpty)

        let request = DiscoveryDatagram.request(size: 1200)
        try await peer.send(request, to: responder)
        try await peer.waitFor(count: 1)
        let answer = try #require(peer.received.first)
        #expect(answer.count <= request.count)
        guard case .serverAddress(let address) = try TelexCodec().decode(answer) else { throw TestFailure("expected a 1010") }
        #expect(address.serverID == server.server.serverID)
        #expect(address.endpoints == [server.endpoint])
        #expect(address.challenge.isEmpty)

        // A small request gets a trimmed answer or none, never a bigger one.
        let small = DiscoveryDatagram.request(size: answer.count - 1)
        try await peer.send(small, to: responder)
        try await Task.sleep(for: .milliseconds(200))
        #expect(peer.received.count == 1)

        // A burst: at most ten answers a second to one source.
        let start = ContinuousClock.now
        try await peer.send(request, to: responder, times: 40)
        // The bucket lets at least five through; wait for them (a loaded machine may be slow to
        // answer), then a little longer for any the limiter should not have let through.
        try await peer.waitFor(count: 1 + 5, timeout: .seconds(20))
        try await Task.sleep(for: .milliseconds(500))
        let answered = peer.received.count - 1
        // Tokens come back at ten a second for as long as the responder works through the burst.
        let refill = Int(((ContinuousClock.now - start) / .milliseconds(100)).rounded(.up))
        #expect(answered >= 5 && answered <= 10 + refill, "\(answered) answers to a burst of 40")
        await peer.stop()
        try await server.stop()
    }

    @Test func listOrderIsHonouredWhenTheFirstIsDown() async throws {
        let down = try await TestServer.start()
        let downURL = down.endpoint
        try await down.stop()
        let up = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await up.enrollToken())

        // What the agent daemon does: try each located server, remember failures.
        let locator = Self.locator([.list, .broadcast])
        let configured = [Candidate(url: downURL), Candidate(url: up.endpoint)]
        var attempts: [String] = []
        var errors: [String] = []
        var chosen: LocatedServer?
        for await server in locator.locate(configured: configured, position: nil) {
            attempts.append(server.reason)
            do {
                _ = try await Self.session(agent, server.url)
                await locator.recordSuccess(server)
                chosen = server
                break
            } catch let error as AgentError where error.code == .unreachable || error.code == .untrustedServer {
                // Untrusted too: a parallel test's server may have taken the freed port.
                errors.append("\(server.url): \(error.message)")
                await locator.recordFailure(server)
            }
        }
        #expect(attempts == ["list #1", "list #2"])
        #expect(chosen?.url == up.endpoint, "\(errors)")

        // Next time the failed server waits out its backoff.
        let next = await locator.candidates(configured: configured, position: nil)
        #expect(next.map(\.url) == [up.endpoint])
        try await up.stop()
    }

    @Test func nearestPicksTheClosestServer() async throws {
        let north = try await TestServer.start(location: Self.sapporo)
        let west = try await TestServer.start(location: Self.osaka)
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await west.enrollToken())
        let configured = [Candidate(url: north.endpoint, location: Self.sapporo), Candidate(url: west.endpoint, location: Self.osaka)]

        let fromKobe = await Self.locator([.nearest, .list]).candidates(configured: configured, position: (34.69, 135.19))
        #expect(fromKobe.map(\.url) == [west.endpoint, north.endpoint])
        #expect(fromKobe.first?.reason.hasPrefix("nearest: 28.") == true)
        _ = try await Self.session(agent, try #require(fromKobe.first).url)

        let fromAsahikawa = await Self.locator([.nearest]).candidates(configured: configured, position: (43.77, 142.36))
        #expect(fromAsahikawa.map(\.url) == [north.endpoint, west.endpoint])
        try await north.stop()
        try await west.stop()
    }

    @Test func rogueAnswerCostsAnAttemptNeverASession() async throws {
        let honest = try await TestServer.start()
        let rogue = try await TestServer.start()  // a real server, but its own CA
        let liar = try await UDPPeer.start { _ in
            var address = WireServerAddress()
            address.serverID = "rogue"
            address.endpoints = [rogue.endpoint]
            address.protocolMin = 1
            address.protocolMax = 1
            return try? TelexCodec().encode(.serverAddress(address))
        }
        let pinned = TestAgent()
        let fresh = TestAgent()
        defer { pinned.remove(); fresh.remove() }
        _ = try pinned.enroll(try await honest.enrollToken())
        _ = try await pinned.run()  // CA pinned
        _ = try fresh.enroll(try await honest.enrollToken())  // CA not fetched yet

        let found = await Self.locator(targets: [liar.target]).candidates(configured: [], position: nil)
        let offered = try #require(found.first)
        #expect(offered.url == rogue.endpoint)
        #expect(offered.method == .broadcast)
        for agent in [pinned, fresh] {
            do {
                _ = try await Self.session(agent, offered.url)
                Issue.record("a session with the rogue server succeeded")
            } catch let error as AgentError {
                #expect(error.code == .untrustedServer, "\(error)")
            }
        }
        let devices = try await rogue.adminJSON("GET", "/v1/devices") as? [Any]
        #expect(devices?.isEmpty == true)
        // The honest server still takes the fresh agent.
        #expect(try await Self.session(fresh, honest.endpoint).enrolled)
        await liar.stop()
        try await rogue.stop()
        try await honest.stop()
    }

    @Test(.enabled(if: getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true", "needs root for network namespaces"))
    func broadcastAndMulticastBetweenNamespaces() async throws {
        guard getuid() == 0 else { throw TestFailure("CI=true but not root: network namespace tests must run") }
        let binary = try #require(DiscoveryLab.serverBinary, "the piggyback executable is not built next to the tests (swift build --build-tests)")
        let lab = try DiscoveryLab.create(servers: 3)
        defer { lab.destroy() }
        // Three real servers; only the third answers at once.
        let delays = [600, 600, 0]
        for index in 0..<3 {
            try lab.startServer(index, binary: binary, delay: delays[index], location: (35.0 + Double(index), 139.0))
        }
        let group = try await lab.agentEventLoopGroup()
        do {
            try await broadcastLab(lab, group: group)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try? await group.shutdownGracefully()
    }

    func broadcastLab(_ lab: DiscoveryLab, group: MultiThreadedEventLoopGroup) async throws {
        var ids: [String] = []
        for index in 0..<3 {
            ids.append(try await lab.waitForServer(index, group: group))
        }
        #expect(Set(ids).count == 3)

        // IPv4 broadcast and IPv6 multicast together: the first answer wins, the rest are ignored.
        // (Several endpoints of that one server: the arrival addresses, then the advertised names.)
        let found = await Self.locator(interfaces: nil, timeout: .seconds(2), group: group).candidates(configured: [], position: nil)
        #expect(!found.isEmpty)
        #expect(found.allSatisfy { $0.serverID == ids[2] && $0.method == .broadcast })
        let first = try #require(found.first)
        #expect(["wss://10.77.0.4:7443/v1/session", "wss://[fd77::4]:7443/v1/session"].contains(first.url), "\(first.url)")
        #expect(first.location?.lat == 37.0)
        try await lab.connect(first.endpoint, group: group)

        // IPv4 only: the directed broadcast 10.77.0.255 finds it; it offers the address the 10 arrived at first.
        try lab.sysctl(lab.agent, "net.ipv6.conf.all.disable_ipv6=1")
        let broadcast = await Self.locator(interfaces: nil, timeout: .seconds(2), group: group).candidates(configured: [], position: nil)
        #expect(broadcast.first?.url == "wss://10.77.0.4:7443/v1/session")
        #expect(broadcast.first?.reason.hasPrefix("broadcast: first answer from 10.77.0.4 in ") == true)
        #expect(broadcast.allSatisfy { $0.serverID == ids[2] })

        // IPv6 only: with no IPv4 address left on the agent's side, multicast to ff02::7067 finds it.
        try lab.sysctl(lab.agent, "net.ipv6.conf.all.disable_ipv6=0")
        try lab.ip("-n", lab.agent, "-6", "addr", "replace", "fd77::1/64", "dev", "br0", "nodad")
        try lab.ip("-n", lab.agent, "-4", "addr", "flush", "dev", "br0")
        var multicast: [LocatedServer] = []
        for _ in 0..<5 where multicast.isEmpty {  // link-local addresses come back within a moment
            multicast = await Self.locator(interfaces: nil, timeout: .seconds(1), group: group).candidates(configured: [], position: nil)
        }
        #expect(multicast.first?.url == "wss://[fd77::4]:7443/v1/session")
        #expect(multicast.first?.reason.hasPrefix("broadcast: first answer from fe80::") == true)
        #expect(multicast.first?.serverID == ids[2])
        try await lab.connect(try #require(multicast.first).endpoint, group: group)

        // The fast one gone, a slower one is first.
        lab.stopServer(2)
        let slower = await Self.locator(interfaces: nil, timeout: .seconds(3), group: group).candidates(configured: [], position: nil)
        #expect(slower.first.map { [ids[0], ids[1]].contains($0.serverID ?? "") } == true)
    }
}

/// Network namespaces for one test: the agent's (a bridge br0, 10.77.0.1/24 and fd77::1/64)
/// and one per server (10.77.0.N+2, fd77::N+2) on a veth into the bridge. Removed by destroy().
final class DiscoveryLab: Sendable {
    let agent: String
    let servers: [String]
    let directory: URL
    let processes = Mutex<[Int: Process]>([:])

    static let ipTool = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The `piggyback` executable built with the tests.
    static var serverBinary: String? {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return [exe.appendingPathComponent("piggyback"), cwd.appendingPathComponent(".build/debug/piggyback")]
            .map(\.path).first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    init(agent: String, servers: [String]) {
        self.agent = agent
        self.servers = servers
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-discovery-\(UUID().uuidString)")
    }

    static func create(servers count: Int) throws -> DiscoveryLab {
        guard ipTool != nil else { throw TestFailure("the ip command is missing (apt-get install iproute2)") }
        let suffix = String(UInt32.random(in: 0x10_0000..<0xFF_FFFF), radix: 16)
        let lab = DiscoveryLab(agent: "pbd-a-\(suffix)", servers: (1...count).map { "pbd-s\($0)-\(suffix)" })
        do {
            for namespace in [lab.agent] + lab.servers {
                try lab.ip("netns", "add", namespace)
                try lab.ip("-n", namespace, "link", "set", "lo", "up")
                try lab.sysctl(namespace, "net.ipv6.conf.default.accept_dad=0")
                try lab.sysctl(namespace, "net.ipv6.conf.all.accept_dad=0")
            }
            try lab.ip("-n", lab.agent, "link", "add", "br0", "type", "bridge", "forward_delay", "0", "mcast_snooping", "0")
            try lab.ip("-n", lab.agent, "addr", "add", "10.77.0.1/24", "dev", "br0")
            try lab.ip("-n", lab.agent, "-6", "addr", "add", "fd77::1/64", "dev", "br0", "nodad")
            try lab.ip("-n", lab.agent, "link", "set", "br0", "up")
            for (index, namespace) in lab.servers.enumerated() {
                let (near, far) = ("pbd\(suffix)a\(index)", "pbd\(suffix)s\(index)")
                try lab.ip("link", "add", near, "type", "veth", "peer", "name", far)
                try lab.ip("link", "set", near, "netns", lab.agent)
                try lab.ip("link", "set", far, "netns", namespace)
                try lab.ip("-n", lab.agent, "link", "set", near, "master", "br0")
                try lab.ip("-n", lab.agent, "link", "set", near, "up")
                try lab.ip("-n", namespace, "addr", "add", "10.77.0.\(index + 2)/24", "dev", far)
                try lab.ip("-n", namespace, "-6", "addr", "add", "fd77::\(index + 2)/64", "dev", far, "nodad")
                try lab.ip("-n", namespace, "link", "set", far, "up")
            }
        } catch {
            lab.destroy()
            throw error
        }
        return lab
    }

    /// Starts `piggyback server` in server namespace `index` (agents on [::]:7443, discovery on 7447).
    func startServer(_ index: Int, binary: String, delay: Int, location: (Double, Double)) throws {
        let data = directory.appendingPathComponent("server\(index)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ipTool ?? "/usr/sbin/ip")
        process.arguments = [
            "netns", "exec", servers[index], binary, "server", "--data", data.path, "--listen", "[::]:7443",
            "--admin-listen", "127.0.0.1:0", "--discovery-port", "7447", "--discovery-delay", "\(delay)",
            "--location", "\(location.0),\(location.1)", "--log-level", "warning",
        ]
        let log = data.appendingPathComponent("server.log")
        guard FileManager.default.createFile(atPath: log.path, contents: nil) else { throw TestFailure("cannot create \(log.path)") }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        processes.withLock { $0[index] = process }
    }

    /// Waits until server `index` answers a unicast 10 from the agent's namespace; returns its id.
    func waitForServer(_ index: Int, group: any EventLoopGroup) async throws -> String {
        let locator = DiscoveryTests.locator(targets: ["10.77.0.\(index + 2)"], timeout: .milliseconds(1500), group: group)
        for _ in 0..<60 {
            if let found = await locator.broadcast() { return found.serverID }
            if processes.withLock({ $0[index]?.isRunning }) != true { break }
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("server\(index)/server.log"), encoding: .utf8)) ?? ""
        throw TestFailure("server \(index) never answered discovery; its log:\n\(log)")
    }

    func stopServer(_ index: Int) {
        guard let process = processes.withLock({ $0.removeValue(forKey: index) }) else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// An event loop group whose thread lives in the agent's namespace: sockets it creates are there.
    func agentEventLoopGroup() async throws -> MultiThreadedEventLoopGroup {
        let path = "/var/run/netns/\(agent)"
        let result: Result<MultiThreadedEventLoopGroup, TestFailure> = await withCheckedContinuation { continuation in
            Thread {
                typealias SetNamespace = @convention(c) (Int32, Int32) -> Int32
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                defer { if fd >= 0 { close(fd) } }
                guard fd >= 0, let symbol = dlsym(nil, "setns"), unsafeBitCast(symbol, to: SetNamespace.self)(fd, 0x4000_0000) == 0 else {
                    continuation.resume(returning: .failure(TestFailure("cannot join \(path): errno \(errno)")))
                    return
                }
                // Threads inherit the namespace of the thread that starts them.
                continuation.resume(returning: .success(MultiThreadedEventLoopGroup(numberOfThreads: 1)))
            }.start()
        }
        return try result.get()
    }

    /// Opens (and closes) a TCP connection from the agent's namespace: the endpoint is real.
    func connect(_ endpoint: Endpoint, group: any EventLoopGroup) async throws {
        let loop = group.next()
        let channel = try await loop.flatSubmit {
            ClientBootstrap(group: loop).connectTimeout(.seconds(5)).connect(host: endpoint.host, port: endpoint.port)
        }.get()
        try await channel.close()
    }

    func destroy() {
        for index in processes.withLock({ Array($0.keys) }) { stopServer(index) }
        for namespace in [agent] + servers { try? ip("netns", "del", namespace) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sets `key=value` under /proc/sys inside `namespace` (no procps needed).
    func sysctl(_ namespace: String, _ setting: String) throws {
        let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
        let path = "/proc/sys/" + parts[0].replacingOccurrences(of: ".", with: "/")
        try ip("netns", "exec", namespace, "/bin/sh", "-c", "echo \(parts[1]) > \(path)")
    }

    func ip(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.ipTool ?? "/usr/sbin/ip")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw TestFailure("ip \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }
}

/// A plain UDP socket on 127.0.0.1: a raw discovery client, or (with `reply`) a fake responder.
final class UDPPeer: Sendable {
    let channel: any Channel
    let inbox: Inbox

    final class Inbox: Sendable {
        let storage = Mutex<[[UInt8]]>([])
        func append(_ bytes: [UInt8]) { storage.withLock { $0.append(bytes) } }
        var all: [[UInt8]] { storage.withLock { $0 } }
    }

    var received: [[UInt8]] { inbox.all }
    var target: String { "127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    static func start(reply: (@Sendable ([UInt8]) -> [UInt8]?)? = nil) async throws -> UDPPeer {
        let inbox = Inbox()
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(inbox: inbox, reply: reply)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return UDPPeer(channel: channel, inbox: inbox)
    }

    /// A UDP port on 127.0.0.1 that was free a moment ago.
    static func freePort() async throws -> Int {
        let peer = try await start()
        let port = peer.channel.localAddress?.port ?? 0
        await peer.stop()
        return port
    }

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    func send(_ bytes: [UInt8], to address: SocketAddress) async throws {
        try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)))
    }

    /// Sends `bytes` `times` times in one flush, as fast as the socket takes them.
    func send(_ bytes: [UInt8], to address: SocketAddress, times: Int) async throws {
        let channel = self.channel
        try await channel.eventLoop.flatSubmit {
            let writes = (0..<times).map { _ in channel.write(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes))) }
            channel.flush()
            return EventLoopFuture.andAllSucceed(writes, on: channel.eventLoop)
        }.get()
    }

    func waitFor(count: Int, timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        while received.count < count {
            guard ContinuousClock.now < deadline else { throw TestFailure("only \(received.count) of \(count) datagrams arrived") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let inbox: Inbox
        let reply: (@Sendable ([UInt8]) -> [UInt8]?)?

        init(inbox: Inbox, reply: (@Sendable ([UInt8]) -> [UInt8]?)?) {
            self.inbox = inbox
            self.reply = reply
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            let bytes = Array(envelope.data.readableBytesView)
            inbox.append(bytes)
            if let answer = reply?(bytes) {
                context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: answer))), promise: nil)
            }
        }
    }
}
