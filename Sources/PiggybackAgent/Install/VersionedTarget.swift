import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A `files` target and its versions: `<target>` is a symlink to
/// `<target>.piggyback/<seq>-<version>-<random>`, so switching versions is one rename(2) of a
/// new symlink over the old one, and earlier versions stay next to it (same file system) for
/// rollback.
struct VersionedTarget {
    /// The target path with its parent's symlinks resolved (the target itself is not followed).
    let path: String
    /// The target's last component.
    let base: String

    /// Where the versions live.
    var versionsDirectory: String { path + Self.suffix }

    static let suffix = ".piggyback"
    private static let ownerFile = ".package"

    /// What is at the target now.
    enum Current: Equatable {
        case nothing
        /// Our symlink, with its content (relative: `<base>.piggyback/<name>`).
        case managed(String)
        /// Something we did not put there: a real directory, a file, someone else's symlink.
        case foreign
    }

    /// What to put back if the new version has to go.
    enum Previous: Equatable {
        case nothing
        case managed(String)
        /// The foreign content, moved into the versions directory under this path.
        case foreign(aside: String)
    }

    /// Checks a manifest's target: absolute, no `.`/`..`, and strictly under an allowed root
    /// after resolving symlinks in its parents.
    static func resolve(_ target: String, allowedRoots: [String]) throws -> VersionedTarget {
        guard target.hasPrefix("/") else {
            throw InstallFailure("the target '\(target.prefix(200))' is not an absolute path; the manifest must name one")
        }
        let parts = target.split(separator: "/").map(String.init)
        guard let base = parts.last, !parts.contains("."), !parts.contains(".."), !target.utf8.contains(0) else {
            throw InstallFailure("the target '\(target.prefix(200))' must be a plain absolute path (no '.' or '..')")
        }
        guard !base.hasSuffix(suffix) else {
            throw InstallFailure("the target '\(target.prefix(200))' ends in '\(suffix)', which names a versions directory")
        }
        let parent = InstallFileSystem.resolvedAllowingMissing("/" + parts.dropLast().joined(separator: "/"))
        let path = (parent == "/" ? "" : parent) + "/" + base
        let roots = allowedRoots.map { InstallFileSystem.resolvedAllowingMissing(($0 as NSString).standardizingPath) }
        guard roots.contains(where: { path.hasPrefix($0 == "/" ? "/" : $0 + "/") }) else {
            throw InstallFailure("the target \(path) is outside the directories this terminal allows for packages (\(roots.joined(separator: ", ")))")
        }
        try InstallFileSystem.makeDirectories(parent)
        return VersionedTarget(path: path, base: base)
    }

    /// What is at the target now.
    func current() throws -> Current {
        switch try InstallFileSystem.kind(path) {
        case nil:
            return .nothing
        case .symlink?:
            guard let text = InstallFileSystem.readLink(path), text.hasPrefix(base + Self.suffix + "/"),
                  !text.dropFirst(base.count + Self.suffix.count + 1).contains("/")
            else { return .foreign }
            return .managed(text)
        default:
            return .foreign
        }
    }

    /// The symlink content that selects version `name`.
    func link(_ name: String) -> String {
        base + Self.suffix + "/" + name
    }

    /// The next version sequence number (one above the highest present).
    func nextSequence() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: versionsDirectory)) ?? []
        return (names.compactMap(Self.sequence).max() ?? 0) + 1
    }

    private static func sequence(_ name: String) -> Int? {
        guard !name.hasPrefix("."), let dash = name.firstIndex(of: "-") else { return nil }
        return Int(name[..<dash])
    }

    /// Points the target at version `name` with one rename(2). Foreign content at the target is
    /// moved to `asideName` in the versions directory (atomically exchanged where the kernel can).
    func switchTo(_ name: String, from current: Current, asideName: String) throws -> Previous {
        let temporary = versionsDirectory + "/.switch-" + InstallFileSystem.randomToken()
        try InstallFileSystem.symlink(link(name), at: temporary)
        switch current {
        case .nothing, .managed:
            do { try InstallFileSystem.rename(temporary, path) } catch { unlink(temporary); throw error }
            if case .managed(let text) = current { return .managed(text) }
            return .nothing
        case .foreign:
            let aside = versionsDirectory + "/" + asideName
            if InstallFileSystem.exchange(temporary, path) {
                // The old content now sits at the temporary name.
                return .foreign(aside: (try? InstallFileSystem.rename(temporary, aside)) == nil ? temporary : aside)
            }
            try InstallFileSystem.rename(path, aside)
            do {
                try InstallFileSystem.rename(temporary, path)
            } catch {
                _ = Glibc.rename(aside, path)
                unlink(temporary)
                throw error
            }
            return .foreign(aside: aside)
        }
    }

    /// Puts back what was at the target before ``switchTo(_:from:asideName:)``.
    func restore(_ previous: Previous) throws {
        switch previous {
        case .nothing:
            if case .managed = try current() { unlink(path) }
        case .managed(let text):
            let temporary = versionsDirectory + "/.switch-" + InstallFileSystem.randomToken()
            try InstallFileSystem.symlink(text, at: temporary)
            do { try InstallFileSystem.rename(temporary, path) } catch { unlink(temporary); throw error }
        case .foreign(let aside):
            if InstallFileSystem.exchange(aside, path) {
                unlink(aside)  // now our symlink
            } else {
                unlink(path)
                try InstallFileSystem.rename(aside, path)
            }
        }
    }

    /// Deletes versions beyond the newest `keep` besides `current`, and leftovers of interrupted switches.
    func prune(keep: Int, current: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: versionsDirectory)) ?? []
        let old = names.filter { $0 != current && Self.sequence($0) != nil }
            .sorted { (Self.sequence($0) ?? 0) > (Self.sequence($1) ?? 0) }
        let leftovers = names.filter { $0.hasPrefix(".switch-") || $0.hasPrefix(".incoming-") }
        var removed: [String] = []
        for name in old.dropFirst(max(keep, 0)) + leftovers {
            if (try? InstallFileSystem.remove(versionsDirectory + "/" + name)) != nil { removed.append(name) }
        }
        return removed
    }

    /// The package that last installed here, from the marker in the versions directory.
    func owner() -> String? {
        ownerRecord()?.name
    }

    /// The marker's lines: package name, version, SHA-256 of the artifact (older markers hold the name only).
    func ownerRecord() -> (name: String, version: String, sha256: String)? {
        guard let text = try? String(contentsOfFile: versionsDirectory + "/" + Self.ownerFile, encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let name = lines.first, !name.isEmpty else { return nil }
        return (name, lines.count > 1 ? lines[1] : "", lines.count > 2 ? lines[2] : "")
    }

    /// Records which package (and which bytes) the target now holds. It survives a reinstall
    /// of the agent, so the terminal can tell the server it already has the package.
    func setOwner(_ name: String, version: String = "", sha256: String = "") {
        let text = [name, version, sha256].joined(separator: "\n") + "\n"
        try? Data(text.utf8).write(to: URL(fileURLWithPath: versionsDirectory + "/" + Self.ownerFile), options: .atomic)
    }
}
