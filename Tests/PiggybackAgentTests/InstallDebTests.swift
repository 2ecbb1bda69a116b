import Foundation
@testable import PiggybackAgent
import Testing

/// `deb` packages through a real dpkg, into a private admin directory and instdir so the
/// machine's package database is never touched.
@Suite struct InstallDebTests {
    static let enabled = getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true"

    /// A dpkg that installs under `root` (admindir root/admin, instdir root/inst).
    func privateDpkg(_ sandbox: InstallSandbox) throws -> [String] {
        let admin = sandbox.path("dpkg/admin")
        for sub in ["info", "updates", "triggers"] {
            try FileManager.default.createDirectory(at: admin.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        for file in ["status", "available"] { try Data().write(to: admin.appendingPathComponent(file)) }
        let inst = sandbox.path("dpkg/inst")
        try FileManager.default.createDirectory(at: inst, withIntermediateDirectories: true)
        return ["dpkg", "--admindir=\(admin.path)", "--instdir=\(inst.path)", "--log=/dev/null", "--force-not-root"]
    }

    func buildDeb(_ sandbox: InstallSandbox) throws -> URL {
        let tree = try sandbox.tree("debroot", [
            "DEBIAN/control": "Package: pb-install-test\nVersion: 1.0\nArchitecture: all\nMaintainer: Piggyback tests <tests@example.invalid>\nDescription: tiny test package\n",
            "opt/pb-install-test/hello.txt": "hello from a deb\n",
        ])
        let deb = sandbox.path("pb-install-test.deb")
        try installTestRun(["dpkg-deb", "--root-owner-group", "--build", tree.path, deb.path])
        return deb
    }

    @Test(.enabled(if: enabled, "needs root for dpkg"))
    func installsADebIntoAPrivateRoot() async throws {
        guard getuid() == 0 else { throw InstallTestError("CI=true but not root: the dpkg test must run") }
        var sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        sandbox.configuration.dpkg = try privateDpkg(sandbox)
        let outcome = await sandbox.installer.install(.init(name: "pb-install-test", version: "1.0", kind: .deb), artifact: try buildDeb(sandbox))
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(outcome.exitCode == 0)
        #expect(InstallSandbox.read(sandbox.path("dpkg/inst/opt/pb-install-test/hello.txt")) == "hello from a deb\n")
        #expect(InstallSandbox.read(sandbox.path("dpkg/admin/status"))?.contains("Package: pb-install-test") == true)
    }

    @Test(.enabled(if: enabled, "needs root for dpkg"))
    func aCorruptDebFailsWithDpkgsMessage() async throws {
        guard getuid() == 0 else { throw InstallTestError("CI=true but not root: the dpkg test must run") }
        var sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        sandbox.configuration.dpkg = try privateDpkg(sandbox)
        let deb = try buildDeb(sandbox)
        var bytes = try Data(contentsOf: deb)
        bytes.replaceSubrange(0..<8, with: Data("garbage!".utf8))
        try bytes.write(to: deb)
        let outcome = await sandbox.installer.install(.init(name: "pb-install-test", version: "1.0", kind: .deb), artifact: deb)
        #expect(outcome.state == .failed)
        #expect(outcome.exitCode == 1)
        #expect(outcome.detail.contains("dpkg -i exited with 1"), "\(outcome.detail)")
        #expect(outcome.detail.contains("not a Debian format archive"), "\(outcome.detail)")
        #expect(!InstallSandbox.exists(sandbox.path("dpkg/inst/opt").path))
    }
}
