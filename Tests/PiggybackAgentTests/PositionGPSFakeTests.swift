import Foundation
import Logging
@testable import PiggybackAgent
import PiggybackProtocol
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real gpsd from Debian, fed by `gpsfake` with an NMEA log written here, read by the
/// agent's gpsd client on loopback. Needs the Debian packages `gpsd` and `gpsd-clients`.
@Suite struct PositionGPSFakeTests {
    let logger = Logger(label: "test.gpsfake")

    /// `$<body>*<XOR checksum>\r\n`.
    static func sentence(_ body: String) -> String {
        let checksum = body.utf8.reduce(UInt8(0)) { $0 ^ $1 }
        return "$" + body + "*" + String(format: "%02X", checksum) + "\r\n"
    }

    /// Degrees as NMEA `ddmm.mmmm` / `dddmm.mmmm` plus hemisphere.
    static func nmea(_ degrees: Double, latitude: Bool) -> String {
        let whole = Int(abs(degrees))
        let minutes = (abs(degrees) - Double(whole)) * 60
        let hemisphere = latitude ? (degrees < 0 ? "S" : "N") : (degrees < 0 ? "W" : "E")
        return String(format: latitude ? "%02d%07.4f" : "%03d%07.4f", whole, minutes) + "," + hemisphere
    }

    /// A few seconds of a stationary 3D fix: RMC (position, date), GGA (fix quality, HDOP), GSA (3D, DOPs).
    static func log(lat: Double, lon: Double, hdop: Double, seconds: Int = 5) -> String {
        let date = Date()
        let calendar = Calendar(identifier: .gregorian)
        var utc = calendar
        utc.timeZone = TimeZone(identifier: "UTC")!
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let day = String(format: "%02d%02d%02d", parts.day!, parts.month!, parts.year! % 100)
        let position = nmea(lat, latitude: true) + "," + nmea(lon, latitude: false)
        var text = ""
        for second in 0..<seconds {
            let time = String(format: "%02d%02d%02d.00", parts.hour!, parts.minute!, second)
            text += sentence("GPRMC,\(time),A,\(position),000.0,000.0,\(day),,,A")
            text += sentence("GPGGA,\(time),\(position),1,08,\(String(format: "%.1f", hdop)),545.4,M,46.9,M,,")
            text += sentence("GPGSA,A,3,04,05,09,12,24,26,29,31,,,,,1.8,\(String(format: "%.1f", hdop)),1.0")
        }
        return text
    }

    @Test func checksumsMatchAKnownSentence() {
        // From the NMEA 0183 reference examples.
        #expect(Self.sentence("GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,") ==
            "$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n")
        #expect(Self.nmea(48.1173, latitude: true) == "4807.0380,N")
        #expect(Self.nmea(-11.516666667, latitude: false) == "01131.0000,W")
    }

    @Test(.timeLimit(.minutes(1))) func gpsdFedByGpsfakeGivesTheLoggedPositionWithItsAccuracy() async throws {
        let gpsfake = "/usr/bin/gpsfake"
        guard FileManager.default.isExecutableFile(atPath: gpsfake),
              FileManager.default.isExecutableFile(atPath: "/usr/sbin/gpsd")
        else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("gpsfake or gpsd missing: install the Debian packages gpsd and gpsd-clients")
            }
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-gpsfake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let (lat, lon, hdop) = (-33.856784, 151.215297, 1.3)
        let logURL = directory.appendingPathComponent("route.nmea")
        try Self.log(lat: lat, lon: lon, hdop: hdop).write(to: logURL, atomically: true, encoding: .ascii)

        let port = try await Self.freePort()
        let fake = try GPSFake(executable: gpsfake, port: port, log: logURL, output: directory.appendingPathComponent("gpsfake.out"))
        defer { fake.stop() }

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
        let output = (try? String(contentsOf: directory.appendingPathComponent("gpsfake.out"), encoding: .utf8)) ?? ""
        let got = try #require(fix, "no position from gpsd; gpsfake said: \(output)")
        #expect(got.source == .gpsd, "gpsfake said: \(output)")
        #expect(abs(got.lat - lat) < 1e-5 && abs(got.lon - lon) < 1e-5)
        // gpsd 3.22 estimates eph as HDOP × 19 m (2 × a 9.5 m range error); allow for rounding.
        #expect(abs(got.accuracyMeters - hdop * 19) < 0.5, "accuracy \(got.accuracyMeters) m")
        #expect(provider.gpsd?.status.gpsdRelease?.isEmpty == false)

        let wire = await provider.wirePosition()
        #expect(wire.source == "gpsd" && !wire.unknown && wire.accuracyM == got.accuracyMeters)

        // gpsd goes away: the GPS fix goes stale and the coarse position takes over.
        fake.stop()
        try await Task.sleep(for: .milliseconds(2500))
        let after = await provider.best()
        #expect(after?.source == .coarse && after?.accuracyMeters == 5000)
    }

    /// A TCP port on loopback that was free a moment ago.
    static func freePort() async throws -> Int {
        let probe = try await PositionTestPeer(replies: [[]])
        let port = probe.port
        await probe.close()
        return port
    }
}

/// `gpsfake` running in the background: it starts its own gpsd on `port` (loopback) and
/// feeds it the log in a loop; `stop()` takes both down.
final class GPSFake: Sendable {
    let process: Process

    init(executable: String, port: Int, log: URL, output: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-q", "-P", String(port), "-c", "0.1", log.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + (environment["PATH"] ?? "")
        // gpsd's control socket goes there (the caller's directory, removed with it).
        environment["TMPDIR"] = log.deletingLastPathComponent().path
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
        self.process = process
    }

    /// Kills gpsd (gpsfake's child) and gpsfake by pid. Not SIGINT/SIGTERM: a child of the
    /// test runner inherits its blocked signal mask, so only SIGKILL is sure to arrive.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?
            .split(separator: " ").compactMap { Int32($0) } ?? []
        for child in children { kill(child, SIGKILL) }
        kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
