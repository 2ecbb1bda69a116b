import Foundation

/// Reads the systemd journal after a cursor with `journalctl`, into a scratch file.
///
/// The journal's own cursor is the bookmark: only entries after the last stored one travel,
/// whatever was vacuumed or rotated in between. The text is journalctl's `short-iso-precise`
/// output (what an administrator reads, and what the server's log rules match).
struct JournalReader {
    let configuration: JournalConfiguration

    /// The excerpt written to `file` and the cursor after its last entry (unchanged when
    /// nothing new was logged).
    struct Excerpt {
        var file: URL
        var size: UInt64
        var cursor: String
    }

    /// Writes the entries of `unit` (nil: all) after `cursor` to `file`.
    func read(unit: String?, after cursor: String, into file: URL) async throws -> Excerpt {
        var arguments = ["--no-pager", "--quiet", "--output=short-iso-precise", "--show-cursor"]
        if let directory = configuration.directory { arguments.append("--directory=\(directory.path)") }
        if let unit { arguments.append("--unit=\(unit)") }
        if cursor.isEmpty {
            arguments.append("--since=\(configuration.firstSince)")
        } else {
            arguments.append("--after-cursor=\(cursor)")
        }
        let command = configuration.command
        let fixed = arguments
        let timeout = configuration.timeout
        let status: Int32 = try await BlockingWork.run(name: "piggyback-journal") { flag in
            Result { try Self.run(command: command, arguments: fixed, output: file, timeout: timeout, cancelled: flag) }
        }.get()
        guard status == 0 else {
            throw AgentError(.storage, "journalctl exited with \(status); is the journal readable by the agent (group systemd-journal)?")
        }
        return try Self.splitCursor(file: file, previous: cursor)
    }

    static func run(command: String, arguments: [String], output: URL, timeout: Duration, cancelled: BlockingWork.Flag) throws -> Int32 {
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process: Process
        do {
            process = try ChildLaunch.start {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: command.hasPrefix("/") ? command : "/usr/bin/env")
                process.arguments = command.hasPrefix("/") ? arguments : [command] + arguments
                process.standardOutput = handle
                process.standardError = FileHandle.nullDevice
                process.standardInput = FileHandle.nullDevice
                try process.run()
                return process
            }
        } catch {
            throw AgentError(.storage, "cannot run \(command): \(error); install systemd's journalctl or drop --journal orders")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning {
            if cancelled.isRaised || ContinuousClock.now > deadline {
                process.terminate()
                process.waitUntilExit()
                throw AgentError(.timeout, "journalctl did not finish in \(timeout)")
            }
            usleep(10_000)
        }
        return process.terminationStatus
    }

    /// Removes journalctl's trailing `-- cursor: …` line from `file` and returns it.
    static func splitCursor(file: URL, previous: String) throws -> Excerpt {
        let handle = try FileHandle(forUpdating: file)
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        let tailStart = size > 4096 ? size - 4096 : 0
        try handle.seek(toOffset: tailStart)
        let tail = try handle.readToEnd() ?? Data()
        let marker = Data("-- cursor: ".utf8)
        guard let range = tail.range(of: marker, options: .backwards),
            range.lowerBound == tail.startIndex || tail[tail.index(before: range.lowerBound)] == UInt8(ascii: "\n")
        else {
            return Excerpt(file: file, size: size, cursor: previous)
        }
        let cursor = String(decoding: tail[range.upperBound...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let keep = tailStart + UInt64(tail.distance(from: tail.startIndex, to: range.lowerBound))
        try handle.truncate(atOffset: keep)
        return Excerpt(file: file, size: keep, cursor: cursor.isEmpty ? previous : cursor)
    }
}
