import Foundation
@testable import PiggybackAgent
import Testing
import ZIPFoundation

/// "Bad input": archive entries that try to escape are refused as a whole, and nothing is
/// written outside the staging directory.
@Suite struct InstallArchiveSafetyTests {
    func install(_ sandbox: InstallSandbox, _ archive: Data, kind: PackageKind = .files) async throws -> InstallOutcome {
        let file = sandbox.path("package-\(UUID().uuidString)")
        try archive.write(to: file)
        return await install(sandbox, file: file, kind: kind)
    }

    func install(_ sandbox: InstallSandbox, file: URL, kind: PackageKind = .files) async -> InstallOutcome {
        let target = sandbox.root.appendingPathComponent("app").path
        return await sandbox.installer.install(.init(name: "evil", version: "1", kind: kind, target: target, script: "install.sh"), artifact: file)
    }

    /// Nothing at the target, nothing left in staging, `outside` untouched.
    func expectNothingWritten(_ sandbox: InstallSandbox, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!InstallSandbox.exists(sandbox.root.appendingPathComponent("app").path), sourceLocation: sourceLocation)
        #expect(InstallSandbox.list(sandbox.outside).isEmpty, sourceLocation: sourceLocation)
        #expect(InstallSandbox.list(sandbox.data.appendingPathComponent("install/staging")).isEmpty, sourceLocation: sourceLocation)
    }

    @Test func refusesDotDotAndAbsolutePaths() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let staging = sandbox.data.appendingPathComponent("install/staging")
        let cases: [(CraftedTar.Entry, String)] = [
            (CraftedTar.file("ok/../../../../outside/dotdot.txt", "x"), "'..'"),
            (CraftedTar.file("../escape.txt", "x"), "'..'"),
            (CraftedTar.file(sandbox.outside.appendingPathComponent("absolute.txt").path, "x"), "absolute"),
        ]
        for (entry, reason) in cases {
            let outcome = try await install(sandbox, CraftedTar.archive([CraftedTar.file("fine.txt", "ok"), entry]))
            #expect(outcome.state == .failed)
            #expect(outcome.detail.contains("refused") && outcome.detail.contains(reason), "\(outcome.detail)")
            expectNothingWritten(sandbox)
        }
        #expect(!InstallSandbox.exists(staging.deletingLastPathComponent().appendingPathComponent("escape.txt").path))
        #expect(!InstallSandbox.exists(staging.appendingPathComponent("escape.txt").path))

        // The same with a `../` entry written by GNU tar itself (-P keeps it).
        let work = try sandbox.tree("work/src", [:])
        try sandbox.tree("work/stuff", ["evil2.txt": "payload"])
        let archive = sandbox.path("dotdot.tar")
        try installTestRun(["tar", "-cPf", archive.path, "../stuff/evil2.txt"], in: work)
        let outcome = await install(sandbox, file: archive)
        #expect(outcome.state == .failed)
        #expect(outcome.detail.contains("'..'"), "\(outcome.detail)")
        #expect(!InstallSandbox.exists(staging.appendingPathComponent("stuff").path))
        #expect(!InstallSandbox.exists(sandbox.data.appendingPathComponent("install/stuff").path))
        expectNothingWritten(sandbox)
    }

    @Test func refusesSymlinksPointingOutside() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        for target in [sandbox.outside.path, "../../../outside", "a/../../x"] {
            let outcome = try await install(sandbox, CraftedTar.archive([CraftedTar.symlink("link", to: target)]))
            #expect(outcome.state == .failed)
            #expect(outcome.detail.contains("symlink pointing outside"), "\(outcome.detail)")
            expectNothingWritten(sandbox)
        }
    }

    @Test func refusesWritingThroughASymlinkCreatedEarlier() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        // evil -> /…/outside, then evil/x: refused at the symlink, outside/x never written.
        let escape = try await install(sandbox, CraftedTar.archive([
            CraftedTar.symlink("evil", to: sandbox.outside.path),
            CraftedTar.file("evil/x", "payload"),
        ]))
        #expect(escape.state == .failed)
        #expect(escape.detail.contains("refused"), "\(escape.detail)")
        #expect(!InstallSandbox.exists(sandbox.outside.appendingPathComponent("x").path))
        expectNothingWritten(sandbox)

        // Even a symlink that stays inside may not be written through.
        let inside = try await install(sandbox, CraftedTar.archive([
            CraftedTar.directory("sub/"),
            CraftedTar.symlink("link", to: "sub"),
            CraftedTar.file("link/x", "payload"),
        ]))
        #expect(inside.state == .failed)
        #expect(inside.detail.contains("through the symlink 'link'"), "\(inside.detail)")
        expectNothingWritten(sandbox)

        // A symlink made harmless-looking first and turned outward by a later one.
        let late = try await install(sandbox, CraftedTar.archive([
            CraftedTar.symlink("b", to: "a/.."),
            CraftedTar.symlink("a", to: "."),
        ]))
        #expect(late.state == .failed)
        #expect(late.detail.contains("leads outside"), "\(late.detail)")
        expectNothingWritten(sandbox)
    }

    @Test func refusesHardLinksOutside() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let secret = sandbox.outside.appendingPathComponent("secret")
        try Data("s".utf8).write(to: secret)
        for target in [secret.path, "../../../../outside/secret", "missing.txt"] {
            let outcome = try await install(sandbox, CraftedTar.archive([CraftedTar.hardLink("copy", to: target)]))
            #expect(outcome.state == .failed)
            #expect(outcome.detail.contains("refused"), "\(outcome.detail)")
        }
        #expect(InstallSandbox.list(sandbox.outside) == ["secret"])
        var info = stat()
        #expect(lstat(secret.path, &info) == 0 && info.st_nlink == 1)

        // A hard link to a file of the package is fine.
        let fine = try await install(sandbox, CraftedTar.archive([CraftedTar.file("a.txt", "A"), CraftedTar.hardLink("b.txt", to: "a.txt")]))
        #expect(fine.state == .installed, "\(fine.detail)")
        #expect(InstallSandbox.read(sandbox.root.appendingPathComponent("app/b.txt")) == "A")
    }

    @Test func skipsDevicesAndFIFOs() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let outcome = try await install(sandbox, CraftedTar.archive([
            CraftedTar.file("readme.txt", "hi"),
            CraftedTar.Entry(name: "dev/null2", type: "3"),
            CraftedTar.Entry(name: "dev/disk", type: "4"),
            CraftedTar.Entry(name: "pipe", type: "6"),
        ]))
        #expect(outcome.state == .installed, "\(outcome.detail)")
        #expect(outcome.detail.contains("skipped 3 device/FIFO entries"), "\(outcome.detail)")
        let app = sandbox.root.appendingPathComponent("app")
        #expect(InstallSandbox.read(app.appendingPathComponent("readme.txt")) == "hi")
        #expect(!InstallSandbox.exists(app.appendingPathComponent("pipe").path))
        #expect(!InstallSandbox.exists(app.appendingPathComponent("dev/null2").path))
    }

    @Test func boundsSizeAndEntryCount() async throws {
        var sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        sandbox.configuration.maxExtractedBytes = 1 << 20
        // A gzip bomb: 8 MiB of zeros compress to a few KiB.
        let source = try sandbox.tree("bomb", [:])
        try Data(count: 8 << 20).write(to: source.appendingPathComponent("zeros"))
        let bomb = sandbox.path("bomb.tgz")
        try installTestRun(["tar", "-czf", bomb.path, "-C", source.path, "zeros"])
        let big = await install(sandbox, file: bomb)
        #expect(big.state == .failed)
        #expect(big.detail.contains("more than 1048576 bytes"), "\(big.detail)")
        expectNothingWritten(sandbox)

        // The same bomb as a zip.
        let zip = sandbox.path("bomb.zip")
        try installTestRun(["zip", "-qr", zip.path, "zeros"], in: source)
        let zipped = await install(sandbox, file: zip)
        #expect(zipped.state == .failed)
        #expect(zipped.detail.contains("more than 1048576 bytes"), "\(zipped.detail)")
        expectNothingWritten(sandbox)

        sandbox.configuration.maxEntries = 3
        let many = try await install(sandbox, CraftedTar.archive((1...5).map { CraftedTar.file("f\($0)", "x") }))
        #expect(many.state == .failed)
        #expect(many.detail.contains("more than 3 entries"), "\(many.detail)")
        expectNothingWritten(sandbox)
    }

    @Test func refusesZipEntriesThatEscape() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        for name in ["../../outside/zip.txt", sandbox.outside.appendingPathComponent("abs.txt").path] {
            let url = sandbox.path("evil-\(UUID().uuidString).zip")
            let archive = try Archive(url: url, accessMode: .create)
            let payload = Data("payload".utf8)
            try archive.addEntry(with: "fine.txt", type: .file, uncompressedSize: Int64(payload.count)) { position, size in
                payload.subdata(in: Int(position)..<Int(position) + size)
            }
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(payload.count)) { position, size in
                payload.subdata(in: Int(position)..<Int(position) + size)
            }
            let outcome = await install(sandbox, file: url)
            #expect(outcome.state == .failed)
            #expect(outcome.detail.contains("refused"), "\(outcome.detail)")
            expectNothingWritten(sandbox)
        }

        // A symlink stored by zip -y that points outside.
        let source = try sandbox.tree("zipsrc", ["a.txt": "a"])
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("out").path, withDestinationPath: sandbox.outside.path)
        let url = sandbox.path("symlink.zip")
        try installTestRun(["zip", "-qry", url.path, "."], in: source)
        let outcome = await install(sandbox, file: url)
        #expect(outcome.state == .failed)
        #expect(outcome.detail.contains("symlink pointing outside"), "\(outcome.detail)")
        expectNothingWritten(sandbox)
    }

    @Test func corruptArchivesFailCleanly() async throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let source = try sandbox.tree("src", ["a.txt": String(repeating: "data ", count: 50_000)])
        let good = sandbox.path("good.tgz")
        try installTestRun(["tar", "-czf", good.path, "-C", source.path, "a.txt"])
        let bytes = try Data(contentsOf: good)

        let truncated = try await install(sandbox, bytes.prefix(bytes.count / 2))
        #expect(truncated.state == .failed)
        #expect(truncated.detail.contains("truncated"), "\(truncated.detail)")

        var flipped = bytes
        flipped[bytes.count / 2] ^= 0xff
        let corrupt = try await install(sandbox, flipped)
        #expect(corrupt.state == .failed, "\(corrupt.detail)")

        let xz = try await install(sandbox, Data([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1, 2, 3]))
        #expect(xz.state == .failed)
        #expect(xz.detail.contains("xz"), "\(xz.detail)")

        var header = CraftedTar.archive([CraftedTar.file("a", "b")])
        header[0] = UInt8(ascii: "X")  // checksum no longer matches
        let badHeader = try await install(sandbox, header)
        #expect(badHeader.state == .failed)
        #expect(badHeader.detail.contains("checksum"), "\(badHeader.detail)")
        expectNothingWritten(sandbox)
    }
}
