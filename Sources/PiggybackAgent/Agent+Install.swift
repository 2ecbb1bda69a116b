import Foundation
import PiggybackProtocol

extension Agent {
    /// Installs every verified download still waiting, in the order received, and records
    /// each result for the next session's 30. Runs after the session has closed, so a long
    /// install never holds the user's connection open.
    ///
    /// Returns one line per package (`name@version: installed`), for the session report.
    func installPending(registry: AgentRegistry) async -> [String] {
        let waiting: [AgentRegistry.Install]
        do {
            waiting = try await registry.installs(state: "downloaded")
        } catch {
            logger.error("cannot read the install queue", metadata: ["error": "\(error)"])
            return []
        }
        guard !waiting.isEmpty else { return [] }
        let installer = PackageInstaller(configuration: configuration.installer, logger: logger)
        var lines: [String] = []
        for var install in waiting {
            let manifest = install.manifest
            let label = "\(manifest.name)@\(manifest.version)"
            let plan = self.plan(for: manifest)
            trace.note("installing \(label) (\(manifest.kind)\(plan.target.isEmpty ? "" : " → \(plan.target)"))")
            let outcome = await installer.install(plan, artifact: URL(fileURLWithPath: install.artifact))
            install.state = outcome.state.rawValue
            install.detail = outcome.detail
            install.exitCode = outcome.exitCode ?? 0
            install.updatedAt = Date()
            lines.append("\(label): \(outcome.state.rawValue)\(outcome.state == .installed ? "" : " (\(outcome.detail.prefix(200)))")")
            logger.notice("package install", metadata: ["package": "\(label)", "state": "\(outcome.state.rawValue)"])
            do {
                try await registry.recordInstall(install)
                if outcome.state == .installed {
                    lines += await removeSuperseded(by: manifest, installer: installer, registry: registry)
                }
            } catch {
                logger.error("cannot record the install result", metadata: ["package": "\(label)", "error": "\(error)"])
            }
        }
        // The next 30 must show what is installed now, not a reading from before.
        _ = try? await InventoryRecorder(registry: registry, root: configuration.inventoryRoot, policy: configuration.changePolicy).record()
        return lines
    }

    /// The installer's plan for a verified manifest.
    func plan(for manifest: WirePackageManifest) -> InstallPlan {
        InstallPlan(manifest: manifest, dataDirectory: configuration.dataDirectory)
    }

    /// Removes the packages a newly installed one supersedes (regional data replaced, not accumulated).
    func removeSuperseded(by manifest: WirePackageManifest, installer: PackageInstaller, registry: AgentRegistry) async -> [String] {
        guard !manifest.supersedes.isEmpty else { return [] }
        var lines: [String] = []
        let installed = (try? await registry.installedPackages()) ?? []
        for var old in installed where manifest.supersedes.contains(old.manifest.name) {
            let label = "\(old.manifest.name)@\(old.manifest.version)"
            let oldPlan = plan(for: old.manifest)
            do {
                if oldPlan.kind == .files { try await installer.remove(name: old.manifest.name, target: oldPlan.target) }
                old.state = "removed"
                old.detail = "superseded by \(manifest.name)@\(manifest.version)"
            } catch {
                old.state = "failed"
                old.detail = "could not remove, superseded by \(manifest.name)@\(manifest.version): \(error)"
            }
            old.updatedAt = Date()
            try? await registry.recordInstall(old)
            lines.append("\(label): \(old.state) (\(old.detail))")
        }
        return lines
    }
}
