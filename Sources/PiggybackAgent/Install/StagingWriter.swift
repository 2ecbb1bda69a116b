import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes archive entries into a fresh staging directory and refuses anything that could
/// reach outside it.
///
/// Refused (the whole package): absolute paths, `..` components, symlinks whose target
/// resolves outside the staging directory (checked again after the last entry, since a later
/// symlink can change where an earlier one leads), hard links to anything but a regular file
/// already extracted, any entry whose parent path runs through a symlink, and more entries or
/// bytes than the limits allow. Device files and FIFOs are skipped and listed. Nothing is ever
/// opened through a symlink (`O_NOFOLLOW`, parents checked with `lstat`), so even a refused
/// package has written nothing outside the staging directory. Set-id bits are dropped.
struct StagingWriter {
    /// Limits that stop archive bombs.
    struct Limits {
        var maxBytes: UInt64
        var maxEntries: Int
    }

    /// What was extracted.
    struct Summary: Equatable {
        var files = 0
        var directories = 0
        var symlinks = 0
        var bytes: UInt64 = 0
        /// Device files and FIFOs that were not created.
        var skipped: [String] = []
    }

    let root: String
    let limits: Limits
    private(set) var summary = Summary()
    private var entries = 0
    private var createdSymlinks: [[String]] = []
    private var directoryModes: [(path: String, mode: mode_t)] = []

    /// Uses `root`, an existing empty directory that nothing else writes to.
    init(root: String, limits: Limits) {
        self.root = root
        self.limits = limits
    }

    /// Adds one entry; for a regular file `content` is called with a writer for its bytes.
    mutating func add(_ entry: ArchiveEntry, content: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        entries += 1
        guard entries <= limits.maxEntries else {
            throw InstallFailure("refused the package: more than \(limits.maxEntries) entries (an archive bomb?); nothing was installed")
        }
        let components = try Self.components(of: entry.path)
        if components.isEmpty {
            guard entry.kind == .directory else { throw InstallFailure.refused(entry.path, "has no name") }
            return  // "./" itself
        }
        switch entry.kind {
        case .characterDevice, .blockDevice, .fifo:
            summary.skipped.append(components.joined(separator: "/"))
            return
        default:
            break
        }
        try makeParents(components, entry: entry.path)
        let path = fullPath(components)
        switch entry.kind {
        case .directory:
            try addDirectory(path, entry: entry)
        case .file:
            try clearForNonDirectory(path, entry: entry.path)
            try writeFile(path, entry: entry, content: content)
        case .symlink:
            try clearForNonDirectory(path, entry: entry.path)
            try addSymlink(path, components: components, entry: entry)
        case .hardLink:
            try clearForNonDirectory(path, entry: entry.path)
            try addHardLink(path, entry: entry)
        case .characterDevice, .blockDevice, .fifo:
            break
        }
    }

    /// Checks every symlink once more (all now exist) and applies directory permissions.
    mutating func finish() throws {
        for link in createdSymlinks {
            guard resolvesInside(link) else {
                throw InstallFailure.refused(link.joined(separator: "/"), "is a symlink that leads outside the package")
            }
        }
        for (path, mode) in directoryModes.reversed() {
            chmod(path, mode)
        }
    }

    // MARK: - Paths

    /// The entry's path as components inside the root: refuses absolute paths, `..` and NUL.
    static func components(of path: String) throws -> [String] {
        guard !path.utf8.contains(0) else { throw InstallFailure.refused(path, "contains a NUL byte") }
        guard !path.hasPrefix("/") else { throw InstallFailure.refused(path, "is an absolute path") }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init).filter { $0 != "." }
        guard !parts.contains("..") else { throw InstallFailure.refused(path, "climbs out of the package with '..'") }
        return parts
    }

    private func fullPath(_ components: [String]) -> String {
        components.isEmpty ? root : root + "/" + components.joined(separator: "/")
    }

    /// Creates missing parent directories; refuses a parent that is a symlink or not a directory.
    private func makeParents(_ components: [String], entry: String) throws {
        for depth in 1..<components.count {
            let path = fullPath(Array(components.prefix(depth)))
            switch try InstallFileSystem.kind(path) {
            case nil:
                guard mkdir(path, 0o755) == 0 else { throw InstallFileSystem.failure("cannot create directory", path) }
            case .directory?:
                continue
            case .symlink?:
                throw InstallFailure.refused(entry, "would be written through the symlink '\(components.prefix(depth).joined(separator: "/"))'")
            default:
                throw InstallFailure.refused(entry, "has a parent that is not a directory")
            }
        }
    }

    /// A later entry replaces an earlier file or link of the same name (as tar does), never a directory.
    private func clearForNonDirectory(_ path: String, entry: String) throws {
        switch try InstallFileSystem.kind(path) {
        case nil:
            return
        case .directory?:
            throw InstallFailure.refused(entry, "would replace a directory of the same name")
        default:
            guard unlink(path) == 0 else { throw InstallFileSystem.failure("cannot replace", path) }
        }
    }

    private mutating func addDirectory(_ path: String, entry: ArchiveEntry) throws {
        switch try InstallFileSystem.kind(path) {
        case nil:
            guard mkdir(path, 0o755) == 0 else { throw InstallFileSystem.failure("cannot create directory", path) }
            summary.directories += 1
        case .directory?:
            break
        default:
            throw InstallFailure.refused(entry.path, "is a directory over a file or link of the same name")
        }
        // Applied at the end so a read-only directory can still be filled; the owner keeps
        // rwx so pruning and removal always work.
        directoryModes.append((path, mode_t(entry.mode & 0o777) | 0o700))
    }

    private mutating func writeFile(_ path: String, entry: ArchiveEntry, content: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        guard entry.size <= limits.maxBytes - min(summary.bytes, limits.maxBytes) else { throw tooLarge() }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw InstallFileSystem.failure("cannot create", path) }
        defer { close(descriptor) }
        let limit = limits.maxBytes
        var written = summary.bytes
        try content { bytes in
            written += UInt64(bytes.count)
            guard written <= limit else { throw tooLarge() }
            var offset = 0
            while offset < bytes.count {
                let count = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw InstallFileSystem.failure("cannot write", path)
                }
                offset += count
            }
        }
        summary.bytes = written
        summary.files += 1
        guard fchmod(descriptor, mode_t(entry.mode & 0o777)) == 0 else { throw InstallFileSystem.failure("cannot set permissions of", path) }
    }

    private func tooLarge() -> InstallFailure {
        InstallFailure("refused the package: it unpacks to more than \(limits.maxBytes) bytes (an archive bomb?); nothing was installed")
    }

    private mutating func addSymlink(_ path: String, components: [String], entry: ArchiveEntry) throws {
        let target = entry.linkTarget
        guard !target.isEmpty, !target.utf8.contains(0) else { throw InstallFailure.refused(entry.path, "is a symlink with an empty or invalid target") }
        guard !target.hasPrefix("/") else { throw InstallFailure.refused(entry.path, "is a symlink pointing outside the package (to \(target.prefix(200)))") }
        var resolved = Array(components.dropLast())
        for part in target.split(separator: "/") where part != "." {
            if part == ".." {
                guard resolved.popLast() != nil else {
                    throw InstallFailure.refused(entry.path, "is a symlink pointing outside the package (to \(target.prefix(200)))")
                }
            } else {
                resolved.append(String(part))
            }
        }
        try InstallFileSystem.symlink(target, at: path)
        createdSymlinks.append(components)
        summary.symlinks += 1
        guard resolvesInside(components) else { throw InstallFailure.refused(entry.path, "is a symlink that leads outside the package") }
    }

    private mutating func addHardLink(_ path: String, entry: ArchiveEntry) throws {
        let target = try Self.components(of: entry.linkTarget)
        guard !target.isEmpty else { throw InstallFailure.refused(entry.path, "is a hard link without a target") }
        for depth in 1..<target.count {
            if try InstallFileSystem.kind(fullPath(Array(target.prefix(depth)))) != .directory {
                throw InstallFailure.refused(entry.path, "is a hard link through a symlink or missing directory")
            }
        }
        guard try InstallFileSystem.kind(fullPath(target)) == .regular else {
            throw InstallFailure.refused(entry.path, "is a hard link to '\(entry.linkTarget.prefix(200))', which is not a regular file extracted before it")
        }
        guard link(fullPath(target), path) == 0 else { throw InstallFileSystem.failure("cannot create hard link", path) }
        summary.files += 1
    }

    /// Follows the symlink at `components` (and any symlinks it leads through) inside the root;
    /// false if any step leaves it, is absolute, or loops.
    private func resolvesInside(_ components: [String]) -> Bool {
        var pending = components
        var resolved: [String] = []
        var hops = 0
        while !pending.isEmpty {
            let part = pending.removeFirst()
            if part == "." || part.isEmpty { continue }
            if part == ".." {
                guard resolved.popLast() != nil else { return false }
                continue
            }
            resolved.append(part)
            guard let target = InstallFileSystem.readLink(fullPath(resolved)) else { continue }
            hops += 1
            guard hops <= 40, !target.hasPrefix("/") else { return false }
            resolved.removeLast()
            pending = target.split(separator: "/").map(String.init) + pending
        }
        return true
    }
}
