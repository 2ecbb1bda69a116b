import Foundation
@testable import PiggybackAgent
import Testing

/// `script` packages: environment, exit codes, output, timeouts that kill the process group.
@Suite struct InstallScriptTests {
    func script(_ sandbox: InstallSandbox, _ text: String) throws -> URL {
        let file = sandbox.path("script-\(UUID().uuidString).sh")
        try Data(text.utf8).write(to: file)
        return file
    }

    @Test func runsAPlainScriptWithThePackageEnvironment() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let out = sandbox.outside.appendingPathComponent("env.txt")
        let artifact = try script(sandbox, "echo \"$PIGGYBACK_PACKAGE $PIGGYBACK_VERSION $PIGGYBACK_TARGET\" > '\(out.path)'\necho done\n")
        let plan = InstallPlan(name: "tool", version: "4.2", kind: .script, target: "/opt/tool", check: "test -s '\(out.path)'")
        let outcome = await sandbox.installer.install(plan, artifact: artifact)
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(outcome.exitCode == 0)
        #expect(outcome.detail.contains("done"))
        #expect(InstallSandbox.read(out) == "tool 4.2 /opt/tool\n")
        #expect(InstallSandbox.list(sandbox.data.appendingPathComponent("install/run")).isEmpty)
    }

    @Test func reportsTheExitCodeAndOutputOfAFailingScript() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let artifact = try script(sandbox, "echo starting\necho 'disk says no' >&2\nexit 3\n")
        let outcome = await sandbox.installer.install(.init(name: "tool", version: "1", kind: .script), artifact: artifact)
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == 3)
        #expect(outcome.detail.contains("exited with 3"), "\(outcome.detail)")
        #expect(outcome.detail.contains("starting") && outcome.detail.contains("disk says no"), "\(outcome.detail)")
    }

    @Test func killsAHangingScriptAndItsChildrenAtTheTimeout() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let pidFile = sandbox.outside.appendingPathComponent("child.pid")
        // The script ignores SIGTERM (so SIGKILL after the grace is needed) and starts a child.
        let artifact = try script(sandbox, "trap '' TERM\nsleep 300 &\necho $! > '\(pidFile.path)'\necho waiting\nwait\nsleep 300\n")
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await sandbox.installer.install(.init(name: "hang", version: "1", kind: .script, timeout: .seconds(1)), artifact: artifact)
        let elapsed = clock.now - started
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == nil)
        #expect(outcome.detail.contains("timed out after 1 s"), "\(outcome.detail)")
        #expect(outcome.detail.contains("waiting"), "\(outcome.detail)")
        #expect(elapsed < .seconds(20))
        let child = try #require(Int32((InstallSandbox.read(pidFile) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)))
        // Reaped by init once orphaned and killed; allow it a moment.
        var alive = true
        for _ in 0..<40 where alive {
            alive = kill(child, 0) == 0 && !Self.isZombie(child)
            if alive { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(!alive, "the script's child \(child) survived the timeout")
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }

    @Test func runsAtIdlePriority() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let artifact = try script(sandbox, "echo \"nice=$(nice)\"\nionice -p $$ 2>/dev/null || true\n")
        let outcome = await sandbox.installer.install(.init(name: "n", version: "1", kind: .script), artifact: artifact)
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(outcome.detail.contains("nice=19"), "\(outcome.detail)")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/ionice") {
            #expect(outcome.detail.contains("idle"), "\(outcome.detail)")
        }
    }

    @Test func keepsOnlyTheTailOfLongOutput() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        // 2 MB of output through the pipe must neither block the script nor bloat the report.
        let artifact = try script(sandbox, "i=0\nhead -c 2000000 /dev/zero | tr '\\0' 'x'\necho\necho THE-END\nexit 4\n")
        let outcome = await sandbox.installer.install(.init(name: "chatty", version: "1", kind: .script, timeout: .seconds(60)), artifact: artifact)
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == 4)
        #expect(outcome.detail.utf8.count <= InstallOutcome.maxDetailBytes)
        #expect(outcome.detail.hasPrefix("the install script exited with 4"))
        #expect(outcome.detail.hasSuffix("THE-END\n"), "\(outcome.detail.suffix(100))")
    }

    @Test func runsTheScriptInsideAnArchive() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let out = sandbox.outside.appendingPathComponent("copied.txt")
        let source = try sandbox.tree("pkg", [
            "setup/install.sh": "cp payload.txt '\(out.path)'\n",
            "payload.txt": "from the archive",
        ])
        _ = source
        let archive = sandbox.path("pkg.tgz")
        try installTestRun(["tar", "-czf", archive.path, "-C", sandbox.path("pkg").path, "."])
        // The script runs with the unpacked archive as its working directory.
        let outcome = await sandbox.installer.install(.init(name: "p", version: "1", kind: .script, script: "setup/install.sh"), artifact: archive)
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(InstallSandbox.read(out) == "from the archive")

        for entry in ["../etc/passwd", "missing.sh", "/bin/true"] {
            let refused = await sandbox.installer.install(.init(name: "p", version: "1", kind: .script, script: entry), artifact: archive)
            #expect(refused.state == .failed, "\(entry)")
        }
        #expect(InstallSandbox.list(sandbox.data.appendingPathComponent("install/run")).isEmpty)
    }
}
