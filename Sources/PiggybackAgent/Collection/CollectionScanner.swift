import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Resolves the server's globs to regular files inside the roots this terminal allows.
///
/// The server names what to collect; the terminal decides where it may look. A glob that
/// resolves outside every root — through `..`, an absolute path or a symlink — is refused
/// and reported, and nothing outside is read.
struct CollectionScanner {
    /// A file found for an order.
    struct Match {
        let path: String
        let resolved: String
        let size: UInt64
        let mtime: Date
    }

    /// The roots with symlinks resolved (what matches are checked against)…
    let roots: [String]
    /// …and as configured (what a pattern's fixed part is checked against, before globbing).
    let configuredRoots: [String]

    init(roots: [URL]) {
        self.roots = roots.map { Self.realpath($0.path) ?? $0.standardizedFileURL.path }
        self.configuredRoots = roots.map { Self.lexicalPrefix($0.path) } + self.roots
    }

    /// Expands one glob; returns the matching files and the problems met.
    func scan(_ pattern: String) -> (matches: [Match], problems: [(String, String)]) {
        guard let first = configuredRoots.first else { return ([], [(pattern, "this terminal allows no collection roots")]) }
        let absolute = pattern.hasPrefix("/") ? pattern : first + "/" + pattern
        var matches: [Match] = []
        var problems: [(String, String)] = []
        // Refuse before listing anything: the pattern's fixed directory part must already be
        // inside a root once `.` and `..` are resolved (symlinks are checked per match below).
        guard Self.isInside(Self.lexicalPrefix(absolute), configuredRoots) else {
            return ([], [(pattern, "outside the collection roots this terminal allows")])
        }
        var result = glob_t()
        defer { globfree(&result) }
        let status = Glibc.glob(absolute, 0, nil, &result)
        guard status == 0 else {
            if status == GLOB_NOMATCH {
                problems.append((pattern, "no file matches"))
            } else {
                problems.append((pattern, "glob failed (\(status))"))
            }
            return (matches, problems)
        }
        for index in 0..<Int(result.gl_pathc) {
            guard let cPath = result.gl_pathv[index] else { continue }
            let path = String(cString: cPath)
            guard let resolved = Self.realpath(path), isInsideRoots(resolved) else {
                // A symlink inside a root that points out: named by its own path (inside), not its target.
                problems.append((path, "outside the collection roots this terminal allows"))
                continue
            }
            var info = stat()
            guard lstat(resolved, &info) == 0 else {
                problems.append((path, "cannot stat: \(String(cString: strerror(errno)))"))
                continue
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                problems.append((path, (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory" : "not a regular file; skipped"))
                continue
            }
            let mtime = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
            matches.append(Match(path: path, resolved: resolved, size: UInt64(info.st_size), mtime: mtime))
        }
        return (matches, problems)
    }

    /// The directories of `pattern` before its first wildcard, with `.`/`..` resolved lexically.
    static func lexicalPrefix(_ pattern: String) -> String {
        var parts: [Substring] = []
        for component in pattern.split(separator: "/") {
            if component.contains(where: { "*?[".contains($0) }) { break }
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    func isInsideRoots(_ resolved: String) -> Bool {
        Self.isInside(resolved, roots)
    }

    static func isInside(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { root in path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
    }

    static func realpath(_ path: String) -> String? {
        guard let resolved = Glibc.realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
