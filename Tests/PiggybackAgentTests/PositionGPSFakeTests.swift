import Foundation
import Logging
@testable import PiggybackAgent
import PiggybackProtocol
import PiggybackTestSupport
import Testing

/// The real gpsd from Debian, fed by `gpsfake` with an NMEA log written here, read by the
/// agent's gpsd client on loopback. Needs the Debian packages `gpsd` and `gpsd-clients`.
@Suite struct PositionGPSFakeTests {
    let logger = Logger(label: "test.gpsfake")

    @Test func checksumsMatchAKnownSentence() {
        // From the NMEA 0183 reference examples.
        #expect(NMEALog.sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") ==
            "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n")
        #expect(NMEALog.coordinate(48.1173, latitude: true) == "4807.0380,N")
        #expect(NMEALog.coordinate(-11.516666667, latitude: false) == "01131.0000,W")
    }

    @Test(.timeLimit(.minutes(1))) func gpsdFedByGpsfakeGivesTheLoggedPositionWithItsAccuracy() async throws {
        if let missing = GPSFake.missingPrerequisite {
            if GPSFake.isRequired { Issue.record("\(missing)") }
            return
        }
        let (lat, lon, hdop) = (-33.856784, 151.215297, 1.3)
        let fake = try await GPSFake.start(log: NMEALog.stationary(lat: lat, lon: lon, hdop: hdop))
        defer { fake.stop() }
        let port = fake.port

        let provider = try PositionProvider(
            configuration: PositionConfiguration(
                gpsd: GPSDClientConfiguration(port: port, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(500)),
                coarse: .init(lat: -33.9, lon: 151.2, accuracyMeters: 5000),
                gpsdMaxAge: .seconds(2)
            ),
            logger: logger
        )
        let running = Task { try await provider.run() }
        defer { running.cancel() }

        // gpsd's first report of a cycle may be 2D without an error estimate; wait for the 3D one.
        var fix: PositionFix?
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            fix = await provider.best(waitingUpTo: .seconds(1))
            if let fix, fix.source == .gpsd, fix.accuracyMeters < 100 { break }
        }
        let output = fake.output
        let got = try #require(fix, "no position from gpsd; gpsfake said: \(output)")
        #expect(got.source == .gpsd, "gpsfake said: \(output)")
        #expect(abs(got.lat - lat) < 1e-5 && abs(got.lon - lon) < 1e-5)
        // gpsd 3.22 estimates eph as HDOP × 19 m (2 × a 9.5 m range error); allow for rounding.
        #expect(abs(got.accuracyMeters - NMEALog.gpsdAccuracyMeters(hdop: hdop)) < 0.5, "accuracy \(got.accuracyMeters) m")
        #expect(provider.gpsd?.status.gpsdRelease?.isEmpty == false)

        let wire = await provider.wirePosition()
        #expect(wire.source == "gpsd" && !wire.unknown && wire.accuracyM == got.accuracyMeters)

        // gpsd goes away: the GPS fix goes stale and the coarse position takes over.
        fake.stop()
        try await Task.sleep(for: .milliseconds(2500))
        let after = await provider.best()
        #expect(after?.source == .coarse && after?.accuracyMeters == 5000)
    }
}
