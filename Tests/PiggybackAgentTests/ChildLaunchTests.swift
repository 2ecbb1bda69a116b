import Foundation
@testable import PiggybackAgent
import PiggybackTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Starting a child whose executable is still open for writing somewhere (ETXTBSY).
@Suite struct ChildLaunchTests {
    /// A fresh directory with an executable script that prints `ran`.
    static func script() throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-launch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("busy.sh").path
        try writeExecutable("#!/bin/sh\necho ran\n", to: path)
        return (path, directory)
    }

    /// A descriptor that keeps `path` open for writing, as a forked child would: executing
    /// the file fails with ETXTBSY until it is closed.
    static func holdOpenForWriting(_ path: String) throws -> Int32 {
        let writer = open(path, O_WRONLY | O_CLOEXEC)
        try #require(writer >= 0)
        return writer
    }

    /// One attempt: run the script, return its output once it exits.
    static func attempt(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test func foundationsErrorForABusyExecutableIsRecognised() throws {
        let (path, directory) = try Self.script()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.holdOpenForWriting(path)
        defer { close(writer) }
        do {
            _ = try Self.attempt(path)
            Issue.record("a script open for writing was executed")
        } catch {
            #expect(ChildLaunch.isBusyExecutable(error), "\(error)")
        }
        #expect(!ChildLaunch.isBusyExecutable(CocoaError(.fileNoSuchFile)))
        #expect(!ChildLaunch.isBusyExecutable(POSIXError(.ENOENT)))
    }

    @Test func aStartWaitsForTheWriterToLetGo() async throws {
        let (path, directory) = try Self.script()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.holdOpenForWriting(path)
        // A thread of its own: in a full parallel run the task pool can be busy for seconds.
        Thread.detachNewThread {
            usleep(300_000)
            close(writer)
        }
        let output = try await ChildLaunch.start { try Self.attempt(path) }
        #expect(output == "ran\n")
        // The blocking variant, with nobody writing: at once.
        #expect(try Self.startBlocking(path) == "ran\n")
    }

    /// The thread-blocking `start` (a synchronous caller gets that overload).
    static func startBlocking(_ path: String) throws -> String {
        try ChildLaunch.start { try attempt(path) }
    }

    @Test func aWriterThatNeverLetsGoFailsAfterTheWait() throws {
        let (path, directory) = try Self.script()
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Self.holdOpenForWriting(path)
        defer { close(writer) }
        var attempts = 0
        do {
            _ = try ChildLaunch.start(busyWait: .milliseconds(200)) {
                attempts += 1
                return try Self.attempt(path)
            }
            Issue.record("a script open for writing was executed")
        } catch {
            #expect(ChildLaunch.isBusyExecutable(error))
        }
        #expect(attempts > 1)
    }
}
