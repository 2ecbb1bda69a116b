import Foundation
@testable import PiggybackAgent
import Testing
import ZIPFoundation

/// `files` packages: unpack, atomic switch, upgrade, pruning, rollback, target checks.
@Suite struct InstallFilesTests {
    /// A tar.gz of v1 (made by /usr/bin/tar), with an executable script and a relative symlink.
    func version1(_ sandbox: InstallSandbox) throws -> URL {
        let archive = sandbox.path("v1.tgz")
        if InstallSandbox.exists(archive.path) { return archive }
        let source = try sandbox.tree("v1", ["bin/run.sh": "#!/bin/sh\necho v1\n", "data/a.txt": "one"])
        chmod(source.appendingPathComponent("bin/run.sh").path, 0o755)
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("current.txt").path, withDestinationPath: "data/a.txt")
        try installTestRun(["tar", "-czf", archive.path, "-C", source.path, "."])
        return archive
    }

    /// A zip of v2 (made by /usr/bin/zip).
    func version2(_ sandbox: InstallSandbox) throws -> URL {
        let archive = sandbox.path("v2.zip")
        if InstallSandbox.exists(archive.path) { return archive }
        let source = try sandbox.tree("v2", ["data/a.txt": "two", "data/b.txt": "new in two"])
        try installTestRun(["zip", "-qr", archive.path, "."], in: source)
        return archive
    }

    @Test func aSingleFileIsInstalledUnderThePackageName() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = sandbox.root.appendingPathComponent("app")
        let file = sandbox.path("plain.csv")
        try Data("a,b\n1,2\n".utf8).write(to: file)
        let outcome = await sandbox.installer.install(.init(name: "prices", version: "7", kind: .files, target: target.path), artifact: file)
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("prices")) == "a,b\n1,2\n")
    }

    @Test func installsThenUpgradesKeepingOnePreviousVersion() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = sandbox.root.appendingPathComponent("app")
        let versions = URL(fileURLWithPath: target.path + ".piggyback")

        let first = await sandbox.installer.install(.init(name: "app", version: "1.0", kind: .files, target: target.path), artifact: try version1(sandbox))
        #expect(first.state == .installed, "\(first.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "one")
        #expect(InstallSandbox.read(target.appendingPathComponent("current.txt")) == "one")
        #expect(FileManager.default.isExecutableFile(atPath: target.appendingPathComponent("bin/run.sh").path))
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: target.path)
        #expect(link.hasPrefix("app.piggyback/1-1.0-"))

        let second = await sandbox.installer.install(.init(name: "app", version: "2.0", kind: .files, target: target.path), artifact: try version2(sandbox))
        #expect(second.state == .installed, "\(second.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "two")
        #expect(InstallSandbox.read(target.appendingPathComponent("data/b.txt")) == "new in two")
        #expect(!InstallSandbox.exists(target.appendingPathComponent("bin").path))
        #expect(InstallSandbox.list(versions).filter { !$0.hasPrefix(".") }.count == 2)

        // A plain tar this time; the oldest version is pruned (keepVersions = 1).
        let source = try sandbox.tree("v3", ["data/a.txt": "three"])
        let archive = sandbox.path("v3.tar")
        try installTestRun(["tar", "-cf", archive.path, "-C", source.path, "data"])
        let third = await sandbox.installer.install(.init(name: "app", version: "3.0", kind: .files, target: target.path), artifact: archive)
        #expect(third.state == .installed, "\(third.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "three")
        let kept = InstallSandbox.list(versions).filter { !$0.hasPrefix(".") }
        #expect(kept.count == 2)
        #expect(kept.allSatisfy { $0.hasPrefix("2-2.0-") || $0.hasPrefix("3-3.0-") }, "\(kept)")
        #expect(InstallSandbox.list(sandbox.data.appendingPathComponent("install/staging")).isEmpty)
    }

    @Test func failingCheckRestoresThePreviousVersion() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = sandbox.root.appendingPathComponent("app")
        let first = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path, check: "test -x bin/run.sh"), artifact: try version1(sandbox))
        #expect(first.state == .installed, "\(first.detail)")
        #expect(first.exitCode == 0)
        let before = try FileManager.default.destinationOfSymbolicLink(atPath: target.path)

        let plan = InstallPlan(name: "app", version: "2", kind: .files, target: target.path, check: "echo checking $PIGGYBACK_VERSION; test -x bin/run.sh")
        let second = await sandbox.installer.install(plan, artifact: try version2(sandbox))
        #expect(second.state == .rolledBack)
        #expect(second.exitCode == 1)
        #expect(second.detail.contains("the check exited with 1"), "\(second.detail)")
        #expect(second.detail.contains("checking 2"), "\(second.detail)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.path) == before)
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "one")
        #expect(InstallSandbox.list(URL(fileURLWithPath: target.path + ".piggyback")).filter { $0.contains("-2-") }.isEmpty)
    }

    @Test func firstInstallOverARealDirectoryKeepsItForRollback() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = try sandbox.tree("data/files/app", ["old.txt": "hand-installed"])

        // A failing check puts the original directory back exactly: a real directory again.
        let failed = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path, check: "exit 7"), artifact: try version1(sandbox))
        #expect(failed.state == .rolledBack, "\(failed.detail)")
        #expect(failed.exitCode == 7)
        #expect(try InstallFileSystem.kind(target.path) == .directory)
        #expect(InstallSandbox.read(target.appendingPathComponent("old.txt")) == "hand-installed")

        let installed = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path), artifact: try version1(sandbox))
        #expect(installed.state == .installed, "\(installed.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "one")
        #expect(!InstallSandbox.exists(target.appendingPathComponent("old.txt").path))
        let aside = InstallSandbox.list(URL(fileURLWithPath: target.path + ".piggyback")).filter { $0.contains("-previous-") }
        #expect(aside.count == 1)

        // The next failing upgrade goes back to v1, not to the hand-installed directory.
        let upgrade = await sandbox.installer.install(.init(name: "app", version: "2", kind: .files, target: target.path, check: "false"), artifact: try version2(sandbox))
        #expect(upgrade.state == .rolledBack)
        #expect(InstallSandbox.read(target.appendingPathComponent("data/a.txt")) == "one")
    }

    @Test func firstInstallWithAFailingCheckLeavesNoTarget() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = sandbox.root.appendingPathComponent("new/app")
        let outcome = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path, check: "exit 2"), artifact: try version1(sandbox))
        #expect(outcome.state == .rolledBack)
        #expect(outcome.detail.contains("no previous version"), "\(outcome.detail)")
        #expect(!InstallSandbox.exists(target.path))
    }

    @Test func refusesTargetsOutsideTheAllowedRoots() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let artifact = try version1(sandbox)
        try FileManager.default.createSymbolicLink(at: sandbox.root.appendingPathComponent("escape"), withDestinationURL: sandbox.outside)
        let cases = [
            sandbox.outside.appendingPathComponent("app").path,
            "relative/app",
            sandbox.root.path + "/../outside/app",
            sandbox.root.appendingPathComponent("escape/app").path,
            sandbox.root.path,
        ]
        for target in cases {
            let outcome = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target), artifact: artifact)
            #expect(outcome.state == .failed, "\(target)")
            #expect(outcome.detail.contains("target"), "\(outcome.detail)")
        }
        #expect(InstallSandbox.list(sandbox.outside).isEmpty)
    }

    @Test func removeDeletesTheTargetAndItsVersions() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let target = sandbox.root.appendingPathComponent("app")
        let outcome = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path), artifact: try version1(sandbox))
        #expect(outcome.state == .installed)
        // Another package's name does not remove it.
        try await sandbox.installer.remove(name: "other", target: target.path)
        #expect(InstallSandbox.exists(target.path))
        try await sandbox.installer.remove(name: "app", target: target.path)
        #expect(!InstallSandbox.exists(target.path))
        #expect(!InstallSandbox.exists(target.path + ".piggyback"))
    }

    /// Staging (the data directory) and the target on different file systems: the unpacked
    /// tree is copied, keeping modes and symlinks.
    @Test func installsAcrossFileSystems() async throws {
        var sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        var shm = stat()
        var tmp = stat()
        guard stat("/dev/shm", &shm) == 0, stat(sandbox.data.path, &tmp) == 0, shm.st_dev != tmp.st_dev else { return }
        let root = URL(fileURLWithPath: "/dev/shm/pb-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        sandbox.configuration.allowedTargetRoots = [root.path]
        let target = root.appendingPathComponent("app")
        let outcome = await sandbox.installer.install(.init(name: "app", version: "1", kind: .files, target: target.path), artifact: try version1(sandbox))
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(InstallSandbox.read(target.appendingPathComponent("current.txt")) == "one")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: target.appendingPathComponent("current.txt").path) == "data/a.txt")
        #expect(FileManager.default.isExecutableFile(atPath: target.appendingPathComponent("bin/run.sh").path))
    }
}
