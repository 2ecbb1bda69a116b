import Logging
import NIOCore
@testable import PiggybackAgent
import Testing

/// The gpsd client against peers that misbehave: garbage, overlong lines, gpsd going away.
@Suite struct PositionGPSDClientTests {
    let logger = Logger(label: "test.gpsd")

    static func lines(_ lines: String...) -> ByteBuffer {
        ByteBuffer(string: lines.map { $0 + "\n" }.joined())
    }

    static func fastClient(port: Int, logger: Logger) -> GPSDClient {
        GPSDClient(
            configuration: GPSDClientConfiguration(port: port, initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(200)),
            logger: logger
        )
    }

    /// Waits until `condition` holds for the client's status, at most `timeout`.
    static func wait(_ client: GPSDClient, timeout: Duration = .seconds(10), until condition: (GPSDClient.Status) -> Bool) async -> GPSDClient.Status {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline && !condition(client.status) {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return client.status
    }

    @Test func garbageIsSkippedAndAnOverlongLineMeansReconnect() async throws {
        let first = Self.lines(
            PositionGPSDParsingTests.version,
            "this is not json",
            "{\"class\":\"TPV\",\"mode\":3,\"lat\":\"north\"}",
            "",
            PositionGPSDParsingTests.tpv3D
        )
        let binary = ByteBuffer(bytes: [0xFF, 0x00, 0xFE, 0x0A])
        let overlong = ByteBuffer(string: String(repeating: "A", count: 70_000))
        let second = Self.lines(#"{"class":"TPV","mode":2,"lat":-33.5,"lon":151.25,"epx":6,"epy":8}"#)
        let peer = try await PositionTestPeer(replies: [[first, binary, overlong], [second]])
        let client = Self.fastClient(port: peer.port, logger: logger)
        let running = Task { try await client.run() }
        let status = await Self.wait(client) { $0.fix?.lat == -33.5 }
        running.cancel()
        try await running.value
        await peer.close()

        #expect(status.fix?.lat == -33.5 && status.fix?.lon == 151.25 && status.fix?.accuracyMeters == 10)
        #expect(status.connections >= 2)
        #expect(status.malformedLines == 3)
        #expect(status.gpsdRelease == "3.22")
        #expect(peer.requests.lines.withLock { $0.first } == "?WATCH={\"enable\":true,\"json\":true}\n")
    }

    @Test func aFixWithoutPositionKeepsTheLastGoodOne() async throws {
        let reply = Self.lines(
            PositionGPSDParsingTests.tpv3D,
            PositionGPSDParsingTests.tpvNoFix,
            PositionGPSDParsingTests.sky,
            #"{"class":"DONE"}"#
        )
        let peer = try await PositionTestPeer(replies: [[reply]])
        let client = Self.fastClient(port: peer.port, logger: logger)
        let running = Task { try await client.run() }
        let status = await Self.wait(client) { $0.satellitesUsed != nil && $0.connections >= 1 }
        running.cancel()
        try await running.value
        await peer.close()
        #expect(status.fix?.accuracyMeters == 24.7)
        #expect(status.satellitesUsed == 2)
    }

    @Test func reconnectsWhenGPSDComesUpLater() async throws {
        // Find a free port, then leave it closed while the client starts.
        let probe = try await PositionTestPeer(replies: [[]])
        let port = probe.port
        await probe.close()

        let client = Self.fastClient(port: port, logger: logger)
        let running = Task { try await client.run() }
        // A failed attempt shows as the last error; on a loaded machine the first one may take a while.
        let before = await Self.wait(client) { $0.lastError != nil }
        #expect(before.connections == 0 && before.lastError != nil && before.fix == nil)

        let peer = try await PositionTestPeer(port: port, replies: [[Self.lines(PositionGPSDParsingTests.tpv3D)]])
        let status = await Self.wait(client) { $0.fix != nil }
        running.cancel()
        try await running.value
        await peer.close()
        #expect(status.fix?.accuracyMeters == 24.7 && status.connections >= 1)
    }
}
