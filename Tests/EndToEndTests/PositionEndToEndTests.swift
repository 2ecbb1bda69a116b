import Foundation
import Logging
import PiggybackAgent
import PiggybackTestSupport
import Testing

/// Telex 60 end to end: a one-shot agent reads its position from a real gpsd (fed by
/// `gpsfake` with an NMEA log written here), sends it in 60, and the server shows it in
/// `GET /v1/devices/{id}`. Needs the Debian packages `gpsd` and `gpsd-clients`.
///
/// The server never sends 1060 today (nothing on it depends on a position yet), so there is
/// no end-to-end case for "asked with 1060, answers unknown"; the unknown answer itself is
/// checked in PositionProviderTests.
@Suite struct PositionEndToEndTests {
    @Test(.timeLimit(.minutes(2))) func gpsdFixFromGpsfakeReachesTheServer() async throws {
        if let missing = GPSFake.missingPrerequisite {
            if GPSFake.isRequired { Issue.record("\(missing)") }
            return
        }
        let (lat, lon, hdop) = (47.376887, 8.541694, 0.9)
        let fake = try await GPSFake.start(log: NMEALog.stationary(lat: lat, lon: lon, hdop: hdop))
        defer { fake.stop() }
        let gpsd = GPSDClientConfiguration(port: fake.port, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(500))
        let reported = try await Self.firstFullFix(gpsd: gpsd, fake: fake)

        let server = try await TestServer.start()
        // A coarse position is configured too: the GPS fix is more accurate, so it wins.
        let agent = TestAgent(positioning: PositionConfiguration(gpsd: gpsd, coarse: .init(lat: 47.4, lon: 8.5, accuracyMeters: 5000)))
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        let before = Date()
        _ = try await agent.run()
        let after = Date()
        #expect(agent.lines.all.contains { $0.hasPrefix("→ 60 position") }, "trace: \(agent.lines.all)")

        let position = try await Self.position(of: id, on: server)
        #expect(position?["source"] as? String == "gpsd", "position \(String(describing: position)); gpsfake said: \(fake.output)")
        let gotLat = try #require(position?["lat"] as? Double)
        let gotLon = try #require(position?["lon"] as? Double)
        #expect(abs(gotLat - lat) < 1e-5 && abs(gotLon - lon) < 1e-5, "\(gotLat),\(gotLon)")
        // The accuracy is gpsd's own error estimate (eph), as any gpsd client reads it.
        let accuracy = try #require(position?["accuracy_m"] as? Double)
        #expect(accuracy == reported.accuracyMeters, "server \(accuracy) m, gpsd \(reported.accuracyMeters) m")
        #expect(abs(accuracy - NMEALog.gpsdAccuracyMeters(hdop: hdop)) < 0.5, "accuracy \(accuracy) m for HDOP \(hdop)")
        let time = try #require(position?["time_unix_ms"] as? Double)
        #expect(time >= (before.timeIntervalSince1970 * 1000).rounded(.down) && time <= (after.timeIntervalSince1970 * 1000).rounded(.up))
        try await server.stop()
    }

    /// gpsd configured but not running: the session goes on after the one-shot wait and the
    /// coarse position is what reaches the server.
    @Test(.timeLimit(.minutes(3))) func withoutGpsdTheCoarsePositionReachesTheServer() async throws {
        let server = try await TestServer.start()
        let silentPort = try await freePort()
        let agent = TestAgent(
            positioning: PositionConfiguration(
                gpsd: GPSDClientConfiguration(port: silentPort, connectTimeout: .seconds(1), initialBackoff: .milliseconds(100)),
                coarse: .init(lat: 35.0116, lon: 135.7681, accuracyMeters: 3000)
            )
        )
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        let started = ContinuousClock.now
        _ = try await agent.run()
        // One-shot: gpsd gets 3 s at most, then the session goes on with what there is.
        #expect(ContinuousClock.now - started < .seconds(30))

        let position = try await Self.position(of: id, on: server)
        #expect(position?["source"] as? String == "coarse")
        #expect(position?["lat"] as? Double == 35.0116 && position?["lon"] as? Double == 135.7681)
        #expect(position?["accuracy_m"] as? Double == 3000)
        try await server.stop()
    }

    /// No source at all: no 60 is sent and the server shows no position.
    @Test(.timeLimit(.minutes(3))) func withoutSourcesNoPositionIsSent() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        #expect(!agent.lines.all.contains { $0.hasPrefix("→ 60") })
        #expect(try await Self.position(of: id, on: server) == nil)
        try await server.stop()
    }

    /// The `position` object of `GET /v1/devices/{id}`, nil when absent.
    static func position(of id: String, on server: TestServer) async throws -> [String: Any]? {
        let detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        return detail?["position"] as? [String: Any]
    }

    /// Waits until gpsd reports the log's 3D fix with its error estimate (right after start
    /// gpsd may report a 2D fix without one), read by a client of its own.
    static func firstFullFix(gpsd: GPSDClientConfiguration, fake: GPSFake) async throws -> PositionFix {
        var logger = Logger(label: "test.gpsd-probe")
        logger.logLevel = .warning
        let probe = try PositionProvider(configuration: PositionConfiguration(gpsd: gpsd, gpsdMaxAge: .seconds(2)), logger: logger)
        let running = Task { try await probe.run() }
        defer { running.cancel() }
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            if let fix = await probe.best(waitingUpTo: .seconds(1)), fix.source == .gpsd,
               fix.accuracyMeters < gpsd.defaultAccuracy3DMeters
            {
                return fix
            }
        }
        throw TestFailure("gpsd reported no 3D fix with an error estimate in 30 s; gpsfake said: \(fake.output)")
    }
}
