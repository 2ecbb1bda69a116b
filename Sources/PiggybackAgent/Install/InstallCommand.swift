import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs one install-time process (a script, a check, dpkg) at idle priority, with a timeout
/// that takes down its whole process group, keeping the tail of its combined output.
///
/// Foundation's `Process` starts each child as the leader of its own process group, so
/// `kill(-pid, …)` reaches everything the script started. Output is read from a non-blocking
/// pipe in the same loop that watches the clock, so a chatty child never blocks on a full pipe
/// and a child that ignores SIGTERM is killed after ``InstallerConfiguration/killGrace``.
struct InstallCommand {
    /// How the process ended.
    enum Ending: Equatable {
        case exited(Int32)
        case signalled(Int32)
        /// Killed at the timeout (SIGTERM, then SIGKILL).
        case timedOut
        /// Killed because the installing task was cancelled.
        case cancelled
    }

    /// The ending and the output tail.
    struct Result {
        var ending: Ending
        var output: String
    }

    var arguments: [String]
    var workingDirectory: String?
    var environment: [String: String] = [:]
    var timeout: Duration
    var killGrace: Duration = .seconds(2)
    var maxOutputBytes: Int = 8 * 1024
    var idlePriority = true

    /// Runs the command; throws only when it cannot be started at all.
    func run() async throws -> Result {
        guard let name = arguments.first, let executable = Self.executable(name) else {
            throw InstallFailure("cannot run '\(arguments.first ?? "")': not found in PATH")
        }
        var argv = [executable] + arguments.dropFirst()
        if idlePriority { argv = Self.idlePrefix() + argv }
        let status = ExitStatus()
        let process: Process
        let pipe: Pipe
        do {
            (process, pipe) = try await ChildLaunch.start {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: argv[0])
                process.arguments = Array(argv.dropFirst())
                if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
                process.environment = Self.environment(adding: environment)
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                process.terminationHandler = { finished in
                    status.set(finished.terminationReason, finished.terminationStatus)
                }
                try process.run()
                return (process, pipe)
            }
        } catch {
            throw InstallFailure("cannot start \(arguments.joined(separator: " ").prefix(200)): \(error.localizedDescription)")
        }
        let group = process.processIdentifier
        let reading = pipe.fileHandleForReading
        defer { try? reading.close() }
        let descriptor = reading.fileDescriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)

        var tail = OutputTail(limit: maxOutputBytes)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var stopReason: Ending?
        var terminatedAt: ContinuousClock.Instant?
        var killed = false
        var exitedAt: ContinuousClock.Instant?
        var endOfOutput = false
        while true {
            if !endOfOutput { endOfOutput = tail.drain(descriptor) }
            let now = clock.now
            let exit = status.value
            if exit == nil, stopReason == nil, now >= deadline || Task.isCancelled {
                stopReason = Task.isCancelled ? .cancelled : .timedOut
                kill(-group, SIGTERM)
                terminatedAt = now
            }
            if let sentAt = terminatedAt, !killed, now - sentAt >= killGrace {
                kill(-group, SIGKILL)
                killed = true
            }
            if let (reason, code) = exit {
                let exited = exitedAt ?? now
                exitedAt = exited
                if let stopReason {
                    // Timed out: the rest of the group goes too, once the pipe is quiet or at the grace.
                    if killed || endOfOutput {
                        if !killed { kill(-group, SIGKILL) }
                        return Result(ending: stopReason, output: tail.text)
                    }
                } else if endOfOutput || now - exited > .milliseconds(500) {
                    // A background child may hold the pipe open: stop reading shortly after the exit.
                    return Result(ending: reason == .exit ? .exited(code) : .signalled(code), output: tail.text)
                }
            }
            if Task.isCancelled {
                usleep(25_000)  // Task.sleep returns at once when cancelled; the kill still needs its grace
            } else {
                try? await Task.sleep(for: .milliseconds(25))
            }
        }
    }

    /// `nice -n 19` and, when present, `ionice -c 3 -t` (idle I/O; `-t`: run anyway where the
    /// kernel refuses the class), so installing yields to the user.
    static func idlePrefix() -> [String] {
        var prefix: [String] = []
        if let nice = executable("nice") { prefix += [nice, "-n", "19"] }
        if let ionice = executable("ionice") { prefix += [ionice, "-c", "3", "-t"] }
        return prefix
    }

    /// The full path of `name` (as is when it contains a slash), searching PATH and the sbin dirs.
    static func executable(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + standardPath
        return directories.lazy.map { $0 + "/" + name }.first { access($0, X_OK) == 0 }
    }

    private static let standardPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    /// The agent's environment plus `adding`, with the sbin directories on PATH (dpkg needs
    /// ldconfig and start-stop-daemon) and no interactive prompts.
    static func environment(adding: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        var path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in standardPath where !path.contains(directory) { path.append(directory) }
        environment["PATH"] = path.joined(separator: ":")
        environment["DEBIAN_FRONTEND"] = "noninteractive"
        environment.merge(adding) { $1 }
        return environment
    }
}

/// The last `limit` bytes of a process's output.
struct OutputTail {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(limit: Int) {
        self.limit = max(limit, 0)
    }

    /// Reads what the non-blocking `descriptor` has; true at end of output.
    mutating func drain(_ descriptor: Int32) -> Bool {
        while true {
            let count = scratch.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                append(scratch[0..<count])
                continue
            }
            if count == 0 { return true }
            if errno == EINTR { continue }
            return errno != EAGAIN && errno != EWOULDBLOCK
        }
    }

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        bytes.append(contentsOf: chunk)
        if bytes.count > limit * 2 + 64 * 1024 { bytes.removeFirst(bytes.count - limit) }
    }

    /// The kept tail as text (invalid UTF-8 replaced).
    var text: String {
        String(decoding: bytes.suffix(limit), as: UTF8.self)
    }
}

/// The child's exit, set by Foundation's termination handler on another thread.
private final class ExitStatus: Sendable {
    private let state = Mutex<(Process.TerminationReason, Int32)?>(nil)

    var value: (Process.TerminationReason, Int32)? { state.withLock { $0 } }

    func set(_ reason: Process.TerminationReason, _ code: Int32) {
        state.withLock { $0 = (reason, code) }
    }
}
