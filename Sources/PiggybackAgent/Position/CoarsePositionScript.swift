import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a site's position script once, bounded in time and output, and parses its answer:
/// one line `LAT,LON,ACC_M` (degrees, degrees, metres) on standard output, exit status 0.
struct CoarsePositionScript: Sendable {
    let script: PositionConfiguration.Script

    init(_ script: PositionConfiguration.Script) {
        self.script = script
    }

    /// Runs the script on a thread of its own (it blocks) and returns its position.
    func run() async throws(PositionError) -> PositionFix {
        let script = self.script
        let result: Result<PositionFix, PositionError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(PositionError) in try Self.runBlocking(script) })
            }
            thread.name = "piggyback-position-script"
            thread.start()
        }
        return try result.get()
    }

    /// Parses `LAT,LON,ACC_M` (surrounding whitespace allowed; the first non-empty line counts).
    static func parse(_ output: String) throws(PositionError) -> PositionFix {
        let line = output.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty } ?? ""
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            .map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard fields.count == 3, let lat = fields[0], let lon = fields[1], let accuracy = fields[2] else {
            throw PositionError("the coarse position script printed \"\(line.prefix(80))\"; it must print LAT,LON,ACC_M (e.g. 48.1173,11.5167,5000)")
        }
        let fix = PositionFix(lat: lat, lon: lon, accuracyMeters: accuracy, source: .coarse)
        guard fix.isValid else {
            throw PositionError("the coarse position script printed \(lat),\(lon),\(accuracy): coordinates out of range or accuracy not a positive number of metres")
        }
        return fix
    }

    static func runBlocking(_ script: PositionConfiguration.Script) throws(PositionError) -> PositionFix {
        let process: Process
        let output: Pipe
        do {
            (process, output) = try ChildLaunch.start {
                let process = Process()
                process.executableURL = script.executable
                process.arguments = script.arguments
                let output = Pipe()
                process.standardOutput = output
                process.standardInput = FileHandle.nullDevice
                try process.run()
                return (process, output)
            }
        } catch {
            throw PositionError("cannot run the coarse position script \(script.executable.path): \(error.localizedDescription); check the path and that it is executable")
        }
        let deadline = ContinuousClock.now.advanced(by: script.timeout)
        let bytes = readOutput(output.fileHandleForReading.fileDescriptor, limit: script.maxOutputBytes, until: deadline)
        try? output.fileHandleForReading.close()
        while process.isRunning && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        if process.isRunning {
            // When it leads its own process group, its helpers (a `sleep` it started) go too.
            let pid = process.processIdentifier
            kill(getpgid(pid) == pid ? -pid : pid, SIGKILL)
            process.waitUntilExit()
            throw PositionError("the coarse position script \(script.executable.path) ran longer than \(script.timeout) and was killed; make it answer faster or raise its timeout")
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw PositionError("the coarse position script \(script.executable.path) failed (status \(process.terminationStatus)); run it by hand to see why")
        }
        return try parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Reads until end of file or the deadline, whichever comes first, keeping the first
    /// `limit` bytes and draining the rest (so a chatty script does not block on a full pipe);
    /// `poll` keeps a script that never closes its output from blocking the agent.
    static func readOutput(_ fd: Int32, limit: Int, until deadline: ContinuousClock.Instant) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { break }
            let millis = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, millis)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: chunk[0..<min(count, limit - bytes.count)])
        }
        return bytes
    }
}
