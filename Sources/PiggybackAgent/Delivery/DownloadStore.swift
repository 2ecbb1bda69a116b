import Crypto
import Foundation
import PiggybackProtocol

/// Where downloads live: partial files by digest (they survive restarts and resume), and
/// verified packages by name and version.
struct DownloadStore {
    let directory: URL

    init(dataDirectory: URL) throws {
        directory = dataDirectory
        for sub in ["downloads", "packages"] {
            try FileManager.default.createDirectory(at: dataDirectory.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
    }

    /// A partial download: by digest and item, so two offers of the same bytes do not share it.
    func partial(sha256: String, item: String) -> URL {
        directory.appendingPathComponent("downloads").appendingPathComponent("\(sha256)-\(Self.safe(item)).part")
    }

    /// The verified package's path; name and version are made safe for a file name.
    func package(name: String, version: String) -> URL {
        directory.appendingPathComponent("packages").appendingPathComponent("\(Self.safe(name))@\(Self.safe(version))")
    }

    /// Bytes already on disk for a partial download.
    func partialSize(sha256: String, item: String) -> UInt64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: partial(sha256: sha256, item: item).path)
        return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Keeps only characters that cannot climb out of the packages directory.
    static func safe(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")
        var out = String(text.map { allowed.contains($0) ? $0 : "_" })
        while out.hasPrefix(".") { out = "_" + out.dropFirst() }
        return out.isEmpty ? "_" : String(out.prefix(200))
    }

    /// A digest fed with the first `count` bytes of `url` (a partial download being resumed).
    static func hasher(of url: URL, count: UInt64) throws -> SHA256 {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        do {
            return try FileDigest.hasher(descriptor: handle.fileDescriptor, count: count)
        } catch {
            throw AgentError(.storage, "\(url.lastPathComponent): \(error)")
        }
    }
}
