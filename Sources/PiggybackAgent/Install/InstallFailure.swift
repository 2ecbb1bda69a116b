/// Why an install step failed. It never leaves the installer: ``PackageInstaller`` turns it
/// into a failed or rolled-back ``InstallOutcome`` whose detail is this message.
struct InstallFailure: Error, CustomStringConvertible {
    /// What went wrong and, where it helps, what to do.
    var message: String
    /// The exit code of the process that failed, when it exited by itself.
    var exitCode: Int32?
    /// The tail of that process's output.
    var output: String

    init(_ message: String, exitCode: Int32? = nil, output: String = "") {
        self.message = message
        self.exitCode = exitCode
        self.output = output
    }

    var description: String { message }

    /// A refusal of a package's content ("Bad input"): nothing of it was written outside staging.
    static func refused(_ entry: String, _ why: String) -> InstallFailure {
        InstallFailure("refused the package: entry '\(entry.prefix(300))' \(why); nothing was installed")
    }
}
