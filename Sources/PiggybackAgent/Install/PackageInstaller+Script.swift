import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension PackageInstaller {
    /// `script`: run the artifact with /bin/sh, or unpack an archive (same safety as `files`)
    /// and run its script entry inside it.
    func runScript(_ plan: InstallPlan, artifact: URL) async -> InstallOutcome {
        var work: String?
        defer { if let work { try? InstallFileSystem.remove(work) } }
        do {
            let directory = try freshDirectory("run")
            work = directory
            let arguments: [String]
            let cwd: String
            switch try ArchiveExtractor.format(of: artifact) {
            case .tar, .gzip, .zip:
                let content = directory + "/package"
                guard mkdir(content, 0o700) == 0 else { throw InstallFileSystem.failure("cannot create directory", content) }
                let limits = extractionLimits
                _ = try await IdleThread.run { try ArchiveExtractor(limits: limits).extract(artifact, into: content) }
                let script = try scriptEntry(plan.script.isEmpty ? "install.sh" : plan.script, in: content)
                arguments = access(script, X_OK) == 0 ? [script] : ["/bin/sh", script]
                cwd = content
            case .unsupported(let name):
                throw InstallFailure("the package is a \(name)-compressed file, which is not supported; use tar, tar.gz, zip or a plain script")
            case .other:
                arguments = ["/bin/sh", artifact.path]
                cwd = directory
            }
            let result = try await command(arguments, in: cwd, for: plan).run()
            if let failure = Self.failure(result, what: "the install script", timeout: plan.timeout) {
                return Self.failed(failure)
            }
            if let failure = try await runCheck(plan, in: cwd) {
                return Self.failed(InstallFailure("the install script succeeded but \(failure.message)", exitCode: failure.exitCode, output: failure.output))
            }
            return InstallOutcome(state: .installed, detail: InstallOutcome.detail("the install script exited with 0", output: result.output), exitCode: 0)
        } catch {
            return Self.failed(error)
        }
    }

    /// `deb`: `dpkg -i ARTIFACT` with the configured dpkg prefix.
    func installDeb(_ plan: InstallPlan, artifact: URL) async -> InstallOutcome {
        guard !configuration.dpkg.isEmpty else { return Self.failed(InstallFailure("no dpkg command is configured")) }
        do {
            let result = try await command(configuration.dpkg + ["-i", artifact.path], in: nil, for: plan).run()
            if let failure = Self.failure(result, what: "dpkg -i", timeout: plan.timeout) {
                return Self.failed(failure)
            }
            if let failure = try await runCheck(plan, in: nil) {
                return Self.failed(InstallFailure("dpkg installed the package but \(failure.message)", exitCode: failure.exitCode, output: failure.output))
            }
            return InstallOutcome(state: .installed, detail: InstallOutcome.detail("dpkg -i exited with 0", output: result.output), exitCode: 0)
        } catch {
            return Self.failed(error)
        }
    }

    /// The script inside the unpacked archive: a regular file that stays inside it.
    private func scriptEntry(_ entry: String, in content: String) throws -> String {
        let components = try StagingWriter.components(of: entry)
        let root = InstallFileSystem.realPath(content) ?? content
        guard !components.isEmpty,
              let resolved = InstallFileSystem.realPath(content + "/" + components.joined(separator: "/")),
              resolved.hasPrefix(root + "/"),
              try InstallFileSystem.kind(resolved) == .regular
        else {
            throw InstallFailure("the archive has no script '\(entry.prefix(200))' to run; the manifest's script must name a file in it")
        }
        return resolved
    }
}
