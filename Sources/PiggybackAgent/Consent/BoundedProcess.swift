import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process bounded by a deadline and by cancellation: collects its output (up to
/// a limit), stops it early when what it wrote to stderr says it cannot do its job (a
/// notify-send without a notification server waits forever), and stops it with SIGINT
/// first (notify-send then withdraws its notification), SIGKILL after a grace period.
struct BoundedProcess: Sendable {
    /// How the child ended.
    enum Ending: Sendable, Equatable {
        /// It exited by itself with this status.
        case exited(Int32)
        /// A signal it did not get from us ended it.
        case signalled(Int32)
        /// It was still running at the deadline and was stopped.
        case timedOut
        /// `stopWhen` matched its stderr and it was stopped.
        case stopped
        /// The calling task was cancelled and it was stopped.
        case cancelled
    }

    /// The ending and what the child wrote.
    struct Outcome: Sendable {
        var ending: Ending
        var stdout: String
        var stderr: String
    }

    var executable: URL
    var arguments: [String]
    /// The child's whole environment; nil inherits ours.
    var environment: [String: String]?
    var deadline: ContinuousClock.Instant
    /// Between SIGINT and SIGKILL.
    var grace: Duration = .seconds(1)
    /// Bytes kept of each output stream (the rest is drained).
    var maxOutput = 64 << 10
    /// Called with everything on stderr so far, after each read.
    var stopWhen: @Sendable (String) -> Bool = { _ in false }

    /// Runs the child off the cooperative pool; throws when it cannot be started.
    func run() async throws -> Outcome {
        let process = self
        return try await BlockingWork.run(name: "piggyback-child") { flag in
            Result { try process.runBlocking(cancelled: flag) }
        }.get()
    }

    /// Runs the child on the calling thread (for callers that are threads already).
    func runBlocking(cancelled: BlockingWork.Flag = .init()) throws -> Outcome {
        let (process, output, errors) = try ChildLaunch.start {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            if let environment { process.environment = environment }
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            try process.run()
            return (process, output, errors)
        }
        defer {
            try? output.fileHandleForReading.close()
            try? errors.fileHandleForReading.close()
        }
        var streams = [Stream(fd: output.fileHandleForReading.fileDescriptor), Stream(fd: errors.fileHandleForReading.fileDescriptor)]
        var ending: Ending?
        while ending == nil && streams.contains(where: \.open) {
            if cancelled.isRaised { ending = .cancelled; break }
            if ContinuousClock.now >= deadline { ending = .timedOut; break }
            var descriptors = streams.map { pollfd(fd: $0.open ? $0.fd : -1, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), BlockingWork.pollSlice(until: deadline))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            for index in streams.indices where descriptors[index].revents != 0 {
                streams[index].read(limit: maxOutput)
            }
            if descriptors[1].revents != 0 && stopWhen(String(decoding: streams[1].bytes, as: UTF8.self)) { ending = .stopped }
        }
        // Both streams closed: the child has (almost always) exited; a child that closed
        // them and lingers is still held to the deadline.
        while ending == nil && process.isRunning {
            if cancelled.isRaised { ending = .cancelled } else if ContinuousClock.now >= deadline { ending = .timedOut } else { usleep(10_000) }
        }
        if ending != nil { stop(process) }
        process.waitUntilExit()
        let final = ending ?? (process.terminationReason == .exit ? .exited(process.terminationStatus) : .signalled(process.terminationStatus))
        return Outcome(ending: final, stdout: String(decoding: streams[0].bytes, as: UTF8.self), stderr: String(decoding: streams[1].bytes, as: UTF8.self))
    }

    /// SIGINT to the child (its process group when it leads one), SIGKILL after `grace`.
    func stop(_ process: Process) {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let target = getpgid(pid) == pid ? -pid : pid
        kill(target, SIGINT)
        let until = ContinuousClock.now.advanced(by: grace)
        while process.isRunning && ContinuousClock.now < until { usleep(10_000) }
        if process.isRunning { kill(target, SIGKILL) }
    }

    /// One output stream of the child.
    struct Stream {
        let fd: Int32
        var open = true
        var bytes: [UInt8] = []

        init(fd: Int32) { self.fd = fd }

        mutating func read(limit: Int) {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { readDescriptor(fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { return }
            guard count > 0 else { open = false; return }
            bytes.append(contentsOf: chunk[0..<max(0, min(count, limit - bytes.count))])
        }
    }
}

/// `read(2)`, under a name the stream's own `read` does not hide.
private func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
