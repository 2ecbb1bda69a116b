import Crypto
import Foundation
import PiggybackProtocol

/// Files kept by content: `blobs/ab/cdef…` named by their SHA-256.
///
/// Data first goes to a temporary or partial file and becomes a blob only after its digest
/// is known (and, for uploads, checked), so nothing half-written is ever addressable.
public struct BlobStore: Sendable {
    /// The directory that holds `blobs/`, `partial/` and `tmp/`.
    public let root: URL

    /// Creates the store's directories under `root`.
    public init(root: URL) throws {
        self.root = root
        for sub in ["blobs", "partial", "tmp"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
    }

    /// Where the blob with this digest lives.
    public func url(sha256 hex: String) -> URL {
        root.appendingPathComponent("blobs").appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(hex)
    }

    /// Whether a blob exists.
    public func contains(sha256 hex: String) -> Bool {
        FileManager.default.fileExists(atPath: url(sha256: hex).path)
    }

    /// The size of a stored blob, or nil when absent.
    public func size(sha256 hex: String) -> UInt64? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url(sha256: hex).path)
        return (attributes?[.size] as? NSNumber)?.uint64Value
    }

    /// A partial upload's file, named by a caller-chosen key (device, order, file digest).
    public func partialURL(key: String) -> URL {
        root.appendingPathComponent("partial").appendingPathComponent(key)
    }

    /// A fresh temporary file for streaming data into.
    public func temporaryURL() -> URL {
        root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
    }

    /// Hashes a finished file and moves it into place; returns its digest.
    /// With `expected`, a mismatch deletes the file and throws.
    @discardableResult
    public func commit(file: URL, expected: String? = nil) throws -> String {
        let digest = try Self.sha256(of: file)
        if let expected, expected != digest {
            try? FileManager.default.removeItem(at: file)
            throw ServerError(.invalid, "content digest \(digest) does not match the announced \(expected)")
        }
        try Self.sync(file: file)
        try place(file: file, sha256: digest)
        return digest
    }

    /// Moves a file whose content is already synced and whose digest is known into place,
    /// durably: the blob's directory is synced after the rename (and the `blobs/` directory
    /// when the blob's directory was created), so once this returns the blob survives a
    /// power loss. When the blob exists already, the file is removed instead and the blob's
    /// modification time refreshed, so an unreferenced-blob sweep does not take it meanwhile.
    public func place(file: URL, sha256 digest: String) throws {
        let target = url(sha256: digest)
        let directory = target.deletingLastPathComponent()
        var created = false
        if !FileManager.default.fileExists(atPath: directory.path) {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            created = true
        }
        if FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.removeItem(at: file)
            // Reused: the sweeper's grace starts again (see BlobSweeper).
            _ = utimes(target.path, nil)
            return
        }
        guard rename(file.path, target.path) == 0 else {
            throw ServerError(.storage, "cannot move \(file.lastPathComponent) into the blob store: \(String(cString: strerror(errno)))")
        }
        try Self.sync(directory: directory)
        if created { try Self.sync(directory: directory.deletingLastPathComponent()) }
    }

    /// fsync(2) on a file, so its bytes are on disk.
    public static func sync(file: URL) throws {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ServerError(.storage, "cannot open \(file.lastPathComponent) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw ServerError(.storage, "cannot sync \(file.lastPathComponent) to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// fsync(2) on a directory, so a rename or a new entry in it is on disk.
    public static func sync(directory: URL) throws {
        let fd = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ServerError(.storage, "cannot open the directory \(directory.path) to sync it: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw ServerError(.storage, "cannot sync the directory \(directory.path): \(String(cString: strerror(errno)))")
        }
    }

    /// SHA-256 of a file, read in 1 MiB pieces.
    public static func sha256(of file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            hasher.update(data: data)
        }
        return Hex.encode(hasher.finalize())
    }
}
