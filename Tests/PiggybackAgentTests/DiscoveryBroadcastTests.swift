import Foundation
import Logging
import NIOCore
@testable import PiggybackAgent
import PiggybackProtocol
import Synchronization
import Testing

/// The broadcast method over real UDP sockets on loopback: unicast targets stand in for the
/// broadcast addresses (namespaced broadcast and multicast tests are in EndToEndTests).
@Suite struct DiscoveryBroadcastTests {
    /// The timeout is generous: the locator returns at the first valid answer, and a fully
    /// parallel test run can hold a datagram back for a second or more.
    static func locator(targets: [String], methods: [DiscoveryMethod] = [.broadcast], timeout: Duration = .seconds(10)) -> ServerLocator {
        var logger = Logger(label: "test.discovery")
        logger.logLevel = .warning
        let configuration = DiscoveryConfiguration(methods: methods, broadcastTimeout: timeout, interfaces: [], unicastTargets: targets)
        return ServerLocator(configuration: configuration, logger: logger)
    }

    @Test func requestIsPaddedToTheExactSizeAndStillDecodes() throws {
        let bare = DiscoveryDatagram.request(size: 0)
        #expect(bare.count < 20)
        for size in bare.count...1400 {
            let frame = DiscoveryDatagram.request(size: size)
            // No protobuf field is one byte long: one byte over the bare 10 cannot be padded.
            #expect(frame.count == (size == bare.count + 1 ? bare.count : size), "size \(size)")
            guard case .discover(let discover) = try TelexCodec().decode(frame) else {
                Issue.record("size \(size) does not decode as a 10")
                return
            }
            #expect(discover.protocolMin == ProtocolVersion.supported.lowerBound)
            #expect(discover.protocolMax == ProtocolVersion.supported.upperBound)
        }
        #expect(DiscoveryDatagram.request(size: 1200).count == 1200)
    }

    @Test func answerChecks() throws {
        let remote = try SocketAddress(ipAddress: "10.0.0.2", port: 7447)
        let local = try SocketAddress(ipAddress: "127.0.0.1", port: 7447)
        let endpoints = ["wss://127.0.0.1:7443/v1/session", "wss://10.0.0.2:7443/v1/session", "http://10.0.0.2/", "wss://10.0.0.2:7443/v1/session"]
        let frame = DiscoveryTestResponder.serverAddress(id: "s1", endpoints: endpoints, location: (35.0, 139.0))

        let fromRemote = try DiscoveryDatagram.answer(frame, from: remote, latency: .zero).get()
        #expect(fromRemote.endpoints.map(\.url) == ["wss://10.0.0.2:7443/v1/session"])
        #expect(fromRemote.location?.lat == 35.0)
        #expect(fromRemote.source == "10.0.0.2")
        let fromLoopback = try DiscoveryDatagram.answer(frame, from: local, latency: .zero).get()
        #expect(fromLoopback.endpoints.map(\.url) == ["wss://127.0.0.1:7443/v1/session", "wss://10.0.0.2:7443/v1/session"])

        let future = DiscoveryTestResponder.serverAddress(id: "s1", endpoints: endpoints, protocols: 90...99)
        #expect(throws: (any Error).self) { try DiscoveryDatagram.answer(future, from: remote, latency: .zero).get() }
        let onlyLoopback = DiscoveryTestResponder.serverAddress(id: "s1", endpoints: ["wss://127.0.0.1:7443/v1/session"])
        #expect(throws: (any Error).self) { try DiscoveryDatagram.answer(onlyLoopback, from: remote, latency: .zero).get() }
        let anonymous = DiscoveryTestResponder.serverAddress(id: "", endpoints: endpoints)
        #expect(throws: (any Error).self) { try DiscoveryDatagram.answer(anonymous, from: remote, latency: .zero).get() }
        #expect(throws: (any Error).self) { try DiscoveryDatagram.answer([0, 10], from: remote, latency: .zero).get() }
        #expect(throws: (any Error).self) { try DiscoveryDatagram.answer([0xff, 0xff, 1], from: remote, latency: .zero).get() }
    }

    @Test func unicastTargetParsing() {
        #expect(DiscoveryBroadcast.unicast("127.0.0.1", defaultPort: 7447)?.port == 7447)
        #expect(DiscoveryBroadcast.unicast("127.0.0.1:9", defaultPort: 7447)?.port == 9)
        #expect(DiscoveryBroadcast.unicast("[::1]:9", defaultPort: 7447)?.port == 9)
        #expect(DiscoveryBroadcast.unicast("::1", defaultPort: 7447)?.port == 7447)
        #expect(DiscoveryBroadcast.unicast("[::1]", defaultPort: 7447)?.port == 7447)
        #expect(DiscoveryBroadcast.unicast("server.example", defaultPort: 7447) == nil)
        #expect(DiscoveryBroadcast.unicast("127.0.0.1:0", defaultPort: 7447) == nil)
        #expect(DiscoveryBroadcast.unicast("127.0.0.1:x", defaultPort: 7447) == nil)
    }

    @Test func targetsNamedInterfacesOnly() {
        let everything = DiscoveryConfiguration(port: 7447)
        #expect(DiscoveryBroadcast.targets(devices: [], configuration: everything).targets.map(\.label) == ["255.255.255.255:7447"])
        let none = DiscoveryConfiguration(interfaces: [], unicastTargets: ["127.0.0.1:1", "bad name"])
        let (targets, invalid) = DiscoveryBroadcast.targets(devices: [], configuration: none)
        #expect(targets.map(\.label) == ["127.0.0.1:1"])
        #expect(invalid == ["bad name"])
        #expect(DiscoveryBroadcast.multicast(interfaceIndex: 3, port: 7447)?.port == 7447)
        let address = try? SocketAddress(ipAddress: "10.77.5.9", port: 0)
        let broadcast = DiscoveryBroadcast.directedBroadcast(address!, netmask: try? SocketAddress(ipAddress: "255.255.252.0", port: 0), port: 7447)
        #expect(broadcast?.ipAddress == "10.77.7.255")
        #expect(broadcast?.port == 7447)
        #expect(DiscoveryBroadcast.directedBroadcast(address!, netmask: try? SocketAddress(ipAddress: "255.255.255.255", port: 0), port: 7447) == nil)
    }

    @Test func firstValidAnswerWinsAndTheRestAreIgnored() async throws {
        let garbage = try await DiscoveryTestResponder.start { _ in
            [[0xde, 0xad], DiscoveryTestResponder.serverAddress(id: "empty", endpoints: [])]
        }
        let fast = try await DiscoveryTestResponder.start(delay: .milliseconds(50)) { _ in
            [DiscoveryTestResponder.serverAddress(id: "fast", endpoints: ["wss://127.0.0.1:7001/v1/session", "wss://127.0.0.1:7002/v1/session"], location: (35, 139))]
        }
        // Answers well after the fast one, still inside the locator's window.
        let slow = try await DiscoveryTestResponder.start(delay: .milliseconds(1500)) { _ in
            [DiscoveryTestResponder.serverAddress(id: "slow", endpoints: ["wss://127.0.0.1:7003/v1/session"])]
        }
        defer { Task { await garbage.stop(); await fast.stop(); await slow.stop() } }

        let found = await Self.locator(targets: [slow.target, garbage.target, fast.target]).candidates(configured: [], position: nil)
        #expect(found.map(\.url) == ["wss://127.0.0.1:7001/v1/session", "wss://127.0.0.1:7002/v1/session"])
        #expect(found.allSatisfy { $0.serverID == "fast" && $0.method == .broadcast })
        #expect(found.first?.reason.hasPrefix("broadcast: first answer from 127.0.0.1 in ") == true)
        #expect(found.first?.location?.lat == 35)
        // Each responder got the padded 10.
        for (name, responder) in [("garbage", garbage), ("fast", fast), ("slow", slow)] {
            await responder.waitForRequests(1)  // a busy event loop may read it a little later
            #expect(responder.requests.first?.count == 1200, "\(name) got \(responder.requests.map(\.count))")
        }
    }

    @Test func noValidAnswerGivesNothing() async throws {
        let wrong = try await DiscoveryTestResponder.start { _ in
            [DiscoveryTestResponder.serverAddress(id: "future", endpoints: ["wss://127.0.0.1:7001/v1/session"], protocols: 50...60)]
        }
        defer { Task { await wrong.stop() } }
        let clock = ContinuousClock()
        let start = clock.now
        let found = await Self.locator(targets: [wrong.target], timeout: .milliseconds(300)).candidates(configured: [], position: nil)
        #expect(found.isEmpty)
        #expect(clock.now - start >= .milliseconds(300))
        // Sent twice: once at once, once after a third of the timeout.
        await wrong.waitForRequests(2)  // a busy event loop may read the second a little later
        #expect(wrong.requests.count == 2)
    }

    @Test func broadcastRunsOnlyWhenTheListIsUsedUp() async throws {
        let responder = try await DiscoveryTestResponder.start { _ in
            [DiscoveryTestResponder.serverAddress(id: "lan", endpoints: ["wss://127.0.0.1:7009/v1/session"])]
        }
        defer { Task { await responder.stop() } }
        let locator = Self.locator(targets: [responder.target], methods: [.list, .broadcast])
        let configured = [Candidate(url: "wss://listed:7443/v1/session")]

        var iterator = locator.locate(configured: configured, position: nil).makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.url == "wss://listed:7443/v1/session")
        #expect(responder.requests.isEmpty)

        let second = await iterator.next()
        #expect(second?.url == "wss://127.0.0.1:7009/v1/session")
        #expect(second?.method == .broadcast)
        #expect(responder.requests.count >= 1)
        #expect(await iterator.next() == nil)
    }

    @Test func traceShowsTheTelexes() async throws {
        let responder = try await DiscoveryTestResponder.start { _ in
            [DiscoveryTestResponder.serverAddress(id: "lan", endpoints: ["wss://127.0.0.1:7009/v1/session"])]
        }
        defer { Task { await responder.stop() } }
        let lines = DiscoveryTraceLines()
        var logger = Logger(label: "test.discovery")
        logger.logLevel = .warning
        let configuration = DiscoveryConfiguration(methods: [.broadcast], interfaces: [], unicastTargets: [responder.target])
        let locator = ServerLocator(configuration: configuration, logger: logger, trace: { lines.append($0) })
        let found = await locator.broadcast()
        #expect(found?.serverID == "lan")
        #expect(lines.all.first == "→ 10 discover 1200 B")
        #expect(lines.all.contains("  by UDP to \(responder.target)"))
        #expect(lines.all.last?.hasPrefix("← 1010 server-address ") == true)
    }
}

/// Trace lines gathered from discovery.
final class DiscoveryTraceLines: Sendable {
    private let storage = Synchronization.Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}
