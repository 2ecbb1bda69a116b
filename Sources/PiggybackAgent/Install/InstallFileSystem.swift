import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The few POSIX file operations the installer needs without following symlinks, with errors
/// that name the path and the reason.
enum InstallFileSystem {
    /// What `lstat` says a path is.
    enum Kind: Equatable {
        case directory, symlink, regular, other
    }

    /// The kind of `path` (symlinks not followed), nil when nothing is there.
    static func kind(_ path: String) throws -> Kind? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot inspect", path)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        case S_IFREG: return .regular
        default: return .other
        }
    }

    /// A failure for the last system call, e.g. "cannot create /opt/x: No space left on device".
    static func failure(_ what: String, _ path: String, _ code: Int32 = errno) -> InstallFailure {
        InstallFailure("\(what) \(path): \(String(cString: strerror(code)))")
    }

    /// The canonical path (symlinks resolved), nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `path` with its longest existing prefix resolved and the rest appended as written, so a
    /// directory that does not exist yet still resolves through symlinked parents.
    static func resolvedAllowingMissing(_ path: String) -> String {
        var existing = path
        var rest: [String] = []
        while realPath(existing) == nil, existing != "/" {
            rest.insert((existing as NSString).lastPathComponent, at: 0)
            existing = (existing as NSString).deletingLastPathComponent
            if existing.isEmpty { existing = "/" }
        }
        var base = realPath(existing) ?? existing
        for component in rest { base = base == "/" ? "/" + component : base + "/" + component }
        return base
    }

    /// Creates `path` and its missing parents.
    static func makeDirectories(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw InstallFailure("cannot create directory \(path): \(error.localizedDescription)")
        }
    }

    /// Removes `path` (a symlink itself, not its target; a directory with its content); absent is fine.
    static func remove(_ path: String) throws {
        guard try kind(path) != nil else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw InstallFailure("cannot remove \(path): \(error.localizedDescription)")
        }
    }

    /// rename(2): atomic replacement of `to` within one file system.
    static func rename(_ from: String, _ to: String) throws {
        guard Glibc.rename(from, to) == 0 else { throw failure("cannot move \(from) to", to) }
    }

    /// Creates a symlink at `path` whose content is `destination`.
    static func symlink(_ destination: String, at path: String) throws {
        guard Glibc.symlink(destination, path) == 0 else { throw failure("cannot create symlink", path) }
    }

    /// The content of the symlink at `path`, nil when it is not one.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Swaps two paths atomically (`renameat2` with RENAME_EXCHANGE). Returns false when the
    /// kernel, C library or file system cannot, so the caller falls back to two renames.
    static func exchange(_ first: String, _ second: String) -> Bool {
        typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
        guard let symbol = dlsym(nil, "renameat2") else { return false }
        let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
        let renameExchange: UInt32 = 2
        return renameat2(AT_FDCWD, first, AT_FDCWD, second, renameExchange) == 0
    }

    /// Eight random hex digits for fresh names that a package cannot predict.
    static func randomToken() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }

    /// Keeps only characters that are safe in one file-name component.
    static func safeComponent(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+")
        var out = String(text.prefix(80).map { allowed.contains($0) ? $0 : "_" })
        while out.hasPrefix(".") { out = "_" + out.dropFirst() }
        return out.isEmpty ? "_" : out
    }
}

extension String {
    /// The string with leading zeros up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
