import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds a program the way a shell would: a name with a slash is taken as a path, a bare
/// name is looked up in `PATH` (and the usual system directories, as a daemon's `PATH`
/// may be minimal).
enum ExecutableLookup {
    static let fallback = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]

    /// The executable's URL, or nil when there is none.
    static func find(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> URL? {
        guard !name.isEmpty else { return nil }
        if name.contains("/") { return access(name, X_OK) == 0 ? URL(fileURLWithPath: name) : nil }
        let directories = (environment["PATH"] ?? "").split(separator: ":").map(String.init) + fallback
        for directory in directories where !directory.isEmpty {
            let path = directory + "/" + name
            if access(path, X_OK) == 0 { return URL(fileURLWithPath: path) }
        }
        return nil
    }
}
