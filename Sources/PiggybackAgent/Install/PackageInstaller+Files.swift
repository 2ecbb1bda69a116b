import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension PackageInstaller {
    /// `files`: unpack into staging, move it into the versions directory, switch the target's
    /// symlink, run the check, and roll back to the previous version if the switch or check fails.
    func installFiles(_ plan: InstallPlan, artifact: URL) async -> InstallOutcome {
        let target: VersionedTarget
        let staging: String
        let summary: StagingWriter.Summary
        do {
            target = try VersionedTarget.resolve(plan.target, allowedRoots: configuration.allowedTargetRoots)
            staging = try freshDirectory("staging")
            let limits = extractionLimits
            do {
                if try ArchiveExtractor.format(of: artifact) == .other {
                    // Not an archive: a single data file, placed as `target/NAME`.
                    summary = try await IdleThread.run { try Self.stageSingleFile(artifact, named: plan.name, into: staging) }
                } else {
                    summary = try await IdleThread.run { try ArchiveExtractor(limits: limits).extract(artifact, into: staging) }
                }
            } catch {
                try? InstallFileSystem.remove(staging)
                throw error
            }
        } catch {
            return Self.failed(error)
        }

        // Place the unpacked tree next to the target, then switch.
        let current: VersionedTarget.Current
        let name: String
        let previous: VersionedTarget.Previous
        do {
            defer { try? InstallFileSystem.remove(staging) }
            try InstallFileSystem.makeDirectories(target.versionsDirectory)
            current = try target.current()
            let sequence = target.nextSequence()
            let token = InstallFileSystem.randomToken()
            let asideName = "\(sequence)-previous-\(token)"
            name = "\(current == .foreign ? sequence + 1 : sequence)-\(InstallFileSystem.safeComponent(plan.version))-\(token)"
            try await place(staging, at: target.versionsDirectory + "/" + name)
            do {
                previous = try target.switchTo(name, from: current, asideName: asideName)
            } catch {
                try? InstallFileSystem.remove(target.versionsDirectory + "/" + name)
                return InstallOutcome(state: .rolledBack, detail: "switching \(target.path) to the new version failed (\(error)); the previous version is still in place")
            }
        } catch {
            return Self.failed(error)
        }

        // The check runs against the switched target; a failure restores the previous version.
        let checkFailure: InstallFailure?
        do {
            checkFailure = try await runCheck(plan, in: target.path)
        } catch {
            checkFailure = error as? InstallFailure ?? InstallFailure("the check could not run: \(error)")
        }
        if let checkFailure {
            return rollBack(target, to: previous, dropping: name, because: checkFailure)
        }

        target.setOwner(plan.name, version: plan.version, sha256: plan.sha256)
        let pruned = target.prune(keep: configuration.keepVersions, current: name)
        var detail = "installed \(summary.files) files (\(summary.bytes) bytes) at \(target.path) -> \(target.versionsDirectory)/\(name)"
        if previous != .nothing { detail += "; previous version kept for rollback" }
        if !pruned.isEmpty { detail += "; pruned \(pruned.count) older version(s)" }
        if !summary.skipped.isEmpty {
            detail += "; skipped \(summary.skipped.count) device/FIFO entr\(summary.skipped.count == 1 ? "y" : "ies") (not created): "
                + summary.skipped.prefix(20).joined(separator: ", ")
        }
        return InstallOutcome(state: .installed, detail: detail, exitCode: plan.check.isEmpty ? nil : 0)
    }

    /// Copies a non-archive artifact into staging under the package's (file-safe) name.
    static func stageSingleFile(_ artifact: URL, named name: String, into staging: String) throws -> StagingWriter.Summary {
        let file = InstallFileSystem.safeComponent(name)
        do {
            try FileManager.default.copyItem(atPath: artifact.path, toPath: staging + "/" + file)
        } catch {
            throw InstallFailure("cannot copy the package into staging: \(error.localizedDescription)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: artifact.path)[.size] as? NSNumber)?.uint64Value ?? 0
        return StagingWriter.Summary(files: 1, bytes: size)
    }

    private func rollBack(_ target: VersionedTarget, to previous: VersionedTarget.Previous, dropping name: String, because failure: InstallFailure) -> InstallOutcome {
        let what: String
        do {
            try target.restore(previous)
            try? InstallFileSystem.remove(target.versionsDirectory + "/" + name)
            what = previous == .nothing ? "the target was removed (there was no previous version)" : "the previous version was restored"
        } catch {
            return InstallOutcome(
                state: .failed,
                detail: InstallOutcome.detail("\(failure.message); restoring the previous version FAILED too (\(error)): \(target.path) points at the new version", output: failure.output),
                exitCode: failure.exitCode
            )
        }
        return InstallOutcome(state: .rolledBack, detail: InstallOutcome.detail("\(failure.message); \(what)", output: failure.output), exitCode: failure.exitCode)
    }

    /// Moves the staging tree to `destination` (one rename); across file systems it is copied
    /// beside the destination first, so the version appears whole or not at all.
    private func place(_ staging: String, at destination: String) async throws {
        if rename(staging, destination) == 0 { return }
        guard errno == EXDEV else { throw InstallFileSystem.failure("cannot move the unpacked package to", destination) }
        let incoming = (destination as NSString).deletingLastPathComponent + "/.incoming-" + InstallFileSystem.randomToken()
        do {
            try await IdleThread.run {
                do {
                    try FileManager.default.copyItem(atPath: staging, toPath: incoming)
                } catch {
                    throw InstallFailure("cannot copy the unpacked package to \(incoming): \(error.localizedDescription)")
                }
            }
            try InstallFileSystem.rename(incoming, destination)
        } catch {
            try? InstallFileSystem.remove(incoming)
            throw error
        }
    }
}
