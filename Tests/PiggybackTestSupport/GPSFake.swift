import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `gpsfake` (Debian's `gpsd-clients`) running in the background: it starts its own real
/// gpsd on a loopback port and feeds it an NMEA log in a loop, so tests read positions from
/// gpsd exactly as a terminal with a GPS receiver would.
public final class GPSFake: Sendable {
    /// Where Debian installs gpsfake.
    public static let executable = "/usr/bin/gpsfake"
    /// Where Debian installs gpsd, which gpsfake runs.
    public static let gpsd = "/usr/sbin/gpsd"

    /// What is missing to run gpsfake here, or nil when it can run.
    public static var missingPrerequisite: String? {
        let files = FileManager.default
        guard files.isExecutableFile(atPath: executable), files.isExecutableFile(atPath: gpsd) else {
            return "\(executable) or \(gpsd) missing: install the Debian packages gpsd and gpsd-clients"
        }
        return nil
    }

    /// Whether a missing gpsfake must fail the test instead of skipping it (CI=true).
    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
    }

    /// The gpsfake process (gpsd is its child).
    public let process: Process
    /// The loopback TCP port gpsd listens on.
    public let port: Int
    /// The file gpsfake's and gpsd's output goes to.
    public let outputFile: URL
    /// A directory this instance created and removes on `stop()`, if any.
    let ownedDirectory: URL?

    /// Starts gpsfake on `port` with the log at `log`; output goes to `output`. gpsd's control
    /// socket goes into the log's directory (TMPDIR), so keep that directory until `stop()`.
    public convenience init(executable: String = GPSFake.executable, port: Int, log: URL, output: URL) throws {
        try self.init(executable: executable, port: port, log: log, output: output, ownedDirectory: nil)
    }

    init(executable: String, port: Int, log: URL, output: URL, ownedDirectory: URL?) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // -q quiet, -P gpsd's port, -c 0.1 s between sentences (a 1 s cycle of 3 sentences is 0.3 s).
        process.arguments = ["-q", "-P", String(port), "-c", "0.1", log.path]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin:" + (environment["PATH"] ?? "")
        environment["TMPDIR"] = log.deletingLastPathComponent().path
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            try? handle.close()
            throw GPSFakeError("could not start \(executable): \(error); is the gpsd-clients package installed?")
        }
        try? handle.close()
        self.process = process
        self.port = port
        self.outputFile = output
        self.ownedDirectory = ownedDirectory
    }

    /// Writes `log` (NMEA text, e.g. `NMEALog.stationary`) into a new temporary directory and
    /// starts gpsfake on a free loopback port; `stop()` removes the directory again.
    public static func start(log: String) async throws -> GPSFake {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-gpsfake-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let logURL = directory.appendingPathComponent("route.nmea")
            try log.write(to: logURL, atomically: true, encoding: .ascii)
            return try GPSFake(
                executable: executable, port: try await freePort(), log: logURL,
                output: directory.appendingPathComponent("gpsfake.out"), ownedDirectory: directory
            )
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// What gpsfake and gpsd printed so far (for failure messages).
    public var output: String {
        (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    }

    /// Kills gpsd (gpsfake's child) and gpsfake by pid, then removes the directory `start`
    /// created. Not SIGINT/SIGTERM: a child of the test runner inherits its blocked signal
    /// mask, so only SIGKILL is sure to arrive. Safe to call more than once.
    public func stop() {
        if process.isRunning {
            let pid = process.processIdentifier
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8))?
                .split(separator: " ").compactMap { Int32($0) } ?? []
            for child in children { kill(child, SIGKILL) }
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        if let ownedDirectory { try? FileManager.default.removeItem(at: ownedDirectory) }
    }
}
