import Foundation

/// What a command printed and how it exited.
public struct CommandResult: Sendable {
    public let status: Int32
    /// Standard output, with standard error mixed in unless it was kept apart.
    public let output: String
    /// Standard error when kept apart (`separateErrors`), else empty.
    public let errors: String
}

/// Runs `executable` with `arguments` (in `directory`, if given) and waits for it. Standard
/// error joins the output, or with `separateErrors` is collected on its own (read beside
/// standard output, so a child that fills one pipe never blocks on it).
public func runCommand(_ executable: String, _ arguments: [String], in directory: URL? = nil, separateErrors: Bool = false) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    let errorPipe = separateErrors ? Pipe() : pipe
    process.standardOutput = pipe
    process.standardError = errorPipe
    try process.run()
    let errors = ErrorsReader()
    let reading = DispatchGroup()
    if separateErrors {
        DispatchQueue.global().async(group: reading) { errors.text = String(decoding: errorPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    reading.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: output, errors: errors.text)
}

/// Standard error read on another thread; the group's wait orders the write before the read.
private final class ErrorsReader: @unchecked Sendable {
    var text = ""
}
