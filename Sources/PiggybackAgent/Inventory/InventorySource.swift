import Foundation

/// One section of the inventory and how to read it.
///
/// Sources are independent: one that fails (no permission, a corrupt file) marks only its
/// own section as failed, with the reason, and the others still go out.
protocol InventorySource: Sendable {
    /// The section name on the wire and in queries (`software`, `cpu`, …).
    var section: String { get }
    /// Collects the section's items, key → value, reading the filesystem under `system.root`.
    func collect(_ system: SystemFiles) throws -> [String: String]
}

/// Reads the files the kernel and the package managers keep, under a root that tests can
/// point at a fixture tree; every read is bounded.
struct SystemFiles: Sendable {
    /// The filesystem root (`/` on a live system).
    let root: URL
    /// The largest file read whole (the dpkg status file of a big system is a few MiB).
    var maxFileBytes = 64 << 20

    func url(_ path: String) -> URL {
        root.appendingPathComponent(path.hasPrefix("/") ? String(path.dropFirst()) : path)
    }

    /// The file's bytes, at most `maxFileBytes`; throws with the path when unreadable.
    func bytes(_ path: String) throws -> [UInt8] {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url(path))
        } catch {
            throw InventoryError("cannot read \(path): \(Self.reason(error))")
        }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: maxFileBytes)) ?? Data())
    }

    /// The file's text, at most `maxFileBytes`; throws with the path when unreadable.
    func text(_ path: String) throws -> String {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url(path))
        } catch {
            throw InventoryError("cannot read \(path): \(Self.reason(error))")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: maxFileBytes)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// The file's first line, trimmed, or nil when unreadable (optional attributes).
    func line(_ path: String) -> String? {
        guard let text = try? text(path) else { return nil }
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Directory entries, sorted; empty when the directory does not exist.
    func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url(path).path)) ?? []).sorted()
    }

    /// The last path component a symlink points to (`driver` links name the driver).
    func linkTarget(_ path: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: url(path).path) else { return nil }
        return URL(fileURLWithPath: target).lastPathComponent
    }

    func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: url(path).path)
    }

    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoPermissionError { return "permission denied" }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        return nsError.localizedDescription
    }
}

/// Why a section could not be collected.
struct InventoryError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
