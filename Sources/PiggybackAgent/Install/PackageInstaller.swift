import Foundation
import Logging

/// Installs verified packages on the terminal: unpacks `files` packages and switches them in
/// atomically (keeping the previous version for rollback), runs `script` packages, hands `deb`
/// packages to dpkg. Effect (3) of the seed: what arrives is installed without the user's help.
///
/// Package problems never throw: every failure becomes an ``InstallOutcome`` whose detail says
/// what went wrong, for the server's delivery report. Child processes run at idle priority and
/// are killed (whole process group) at the plan's timeout. Installs into the same target must
/// not run concurrently (the session installs one package at a time).
public struct PackageInstaller: Sendable {
    /// Where and how to install.
    public let configuration: InstallerConfiguration
    let logger: Logger

    /// Creates an installer; nothing is touched until the first install.
    public init(configuration: InstallerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Installs a verified artifact as `plan` says. Never throws for package problems: they
    /// become a failed or rolled-back outcome.
    public func install(_ plan: InstallPlan, artifact: URL) async -> InstallOutcome {
        logger.info("installing package", metadata: ["package": "\(plan.name)", "version": "\(plan.version)", "kind": "\(plan.kind.rawValue)"])
        let outcome: InstallOutcome
        switch plan.kind {
        case .files: outcome = await installFiles(plan, artifact: artifact)
        case .script: outcome = await runScript(plan, artifact: artifact)
        case .deb: outcome = await installDeb(plan, artifact: artifact)
        }
        let metadata: Logger.Metadata = [
            "package": "\(plan.name)", "version": "\(plan.version)", "state": "\(outcome.state.rawValue)",
            "exit": "\(outcome.exitCode.map(String.init) ?? "-")",
        ]
        if outcome.state == .installed {
            logger.info("package installed", metadata: metadata)
        } else {
            logger.warning("package not installed: \(outcome.detail.prefix(500))", metadata: metadata)
        }
        return outcome
    }

    /// Removes what an earlier `files` install of `name` put at `target` (when the package is
    /// superseded): the target's symlink and the kept versions. A target that another package
    /// has since taken over is left alone; so is a target that is not Piggyback's symlink.
    public func remove(name: String, target: String) async throws {
        do {
            let versioned = try VersionedTarget.resolve(target, allowedRoots: configuration.allowedTargetRoots)
            if let owner = versioned.owner(), owner != name {
                logger.info("not removing: another package owns the target", metadata: ["package": "\(name)", "owner": "\(owner)", "target": "\(versioned.path)"])
                return
            }
            switch try versioned.current() {
            case .managed:
                guard unlink(versioned.path) == 0 || errno == ENOENT else { throw InstallFileSystem.failure("cannot remove", versioned.path) }
            case .foreign:
                logger.warning("target is not a Piggyback link; left in place", metadata: ["package": "\(name)", "target": "\(versioned.path)"])
            case .nothing:
                break
            }
            try InstallFileSystem.remove(versioned.versionsDirectory)
            logger.info("removed package files", metadata: ["package": "\(name)", "target": "\(versioned.path)"])
        } catch let failure as InstallFailure {
            throw AgentError(.storage, "cannot remove package \(name) at \(target): \(failure.message)")
        }
    }

    /// Whether a `files` package with exactly these bytes is what its target holds now
    /// (the target is Piggyback's link and its marker names the package, version and digest).
    /// Such a package needs no download, even when the agent was reinstalled and its
    /// registry is new.
    public func isInPlace(_ plan: InstallPlan) -> Bool {
        guard plan.kind == .files, !plan.sha256.isEmpty,
            let versioned = try? VersionedTarget.resolve(plan.target, allowedRoots: configuration.allowedTargetRoots),
            case .managed? = try? versioned.current(),
            let record = versioned.ownerRecord()
        else { return false }
        return record.name == plan.name && record.version == plan.version && record.sha256 == plan.sha256
    }

    // MARK: - Shared helpers

    var extractionLimits: StagingWriter.Limits {
        .init(maxBytes: configuration.maxExtractedBytes, maxEntries: configuration.maxEntries)
    }

    /// A fresh private directory under the state directory (`staging/…`, `run/…`).
    func freshDirectory(_ area: String) throws -> String {
        let parent = configuration.stateDirectory.appendingPathComponent(area).path
        try InstallFileSystem.makeDirectories(parent)
        let path = parent + "/" + InstallFileSystem.randomToken() + InstallFileSystem.randomToken()
        guard mkdir(path, 0o700) == 0 else { throw InstallFileSystem.failure("cannot create directory", path) }
        return path
    }

    /// A command for `plan` with its environment, timeout and the configured limits.
    func command(_ arguments: [String], in directory: String?, for plan: InstallPlan) -> InstallCommand {
        InstallCommand(
            arguments: arguments,
            workingDirectory: directory,
            environment: ["PIGGYBACK_PACKAGE": plan.name, "PIGGYBACK_VERSION": plan.version, "PIGGYBACK_TARGET": plan.target],
            timeout: plan.timeout,
            killGrace: configuration.killGrace,
            maxOutputBytes: configuration.maxOutputBytes,
            idlePriority: configuration.idlePriority
        )
    }

    /// Runs the plan's check, if any, in `directory`; nil when there is none or it passed.
    func runCheck(_ plan: InstallPlan, in directory: String?) async throws -> InstallFailure? {
        guard !plan.check.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        let result = try await command(["/bin/sh", "-c", plan.check], in: directory, for: plan).run()
        return Self.failure(result, what: "the check", timeout: plan.timeout)
    }

    /// nil for exit 0, else why the process failed (with its exit code and output).
    static func failure(_ result: InstallCommand.Result, what: String, timeout: Duration) -> InstallFailure? {
        switch result.ending {
        case .exited(0):
            return nil
        case .exited(let code):
            return InstallFailure("\(what) exited with \(code)", exitCode: code, output: result.output)
        case .signalled(let signal):
            return InstallFailure("\(what) was killed by signal \(signal)", output: result.output)
        case .timedOut:
            return InstallFailure("\(what) timed out after \(describe(timeout)) and was killed", output: result.output)
        case .cancelled:
            return InstallFailure("\(what) was stopped because the agent is shutting down", output: result.output)
        }
    }

    /// "1 s", "2.5 s".
    static func describe(_ duration: Duration) -> String {
        let seconds = duration.seconds
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }

    /// The outcome for an error that stopped an install before anything changed.
    static func failed(_ error: any Error) -> InstallOutcome {
        guard let failure = error as? InstallFailure else {
            return InstallOutcome(state: .failed, detail: "install failed: \(error)")
        }
        return InstallOutcome(state: .failed, detail: InstallOutcome.detail(failure.message, output: failure.output), exitCode: failure.exitCode)
    }
}
