import Foundation

/// What a command printed (standard output and error together) and how it exited.
public struct CommandResult: Sendable {
    public let status: Int32
    public let output: String
}

/// Runs `executable` with `arguments` (in `directory`, if given) and waits for it.
public func runCommand(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, output: output)
}
