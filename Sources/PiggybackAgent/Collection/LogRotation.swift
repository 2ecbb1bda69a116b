import Foundation
import NIOCore

/// A rotated sibling of a log: renamed (`syslog.1`), dated, or compressed (`syslog.2.gz`).
struct LogRotation {
    let path: String
    let info: LogFileInfo

    var compressed: Bool { path.hasSuffix(".gz") }

    /// Whether this rotation is the file the cursor was taken on. Its first bytes decide
    /// (renamed, copied and truncated, or compressed alike): inode numbers are reused as soon
    /// as a rotation is compressed and its original deleted, so identity alone would mistake a
    /// newer file for the old one. With nothing stored yet, identity is all there is.
    func holds(_ cursor: LogCursor) throws -> Bool {
        let count = min(cursor.offset, LogCursor.fingerprintBytes)
        guard count > 0 else { return !compressed && info.same(as: cursor) }
        if !compressed {
            guard info.size >= cursor.offset else { return false }
            return try LogFileInfo.fingerprint(of: URL(fileURLWithPath: path), count: count) == cursor.fingerprint
        }
        var source = try GzipChunkSource(try FileChunkSource(url: URL(fileURLWithPath: path)))
        var prefix: [UInt8] = []
        while prefix.count < Int(count), let chunk = try? source.nextChunk() {
            prefix += chunk.readableBytesView
        }
        return LogFileInfo.fingerprint(of: prefix, count: count) == cursor.fingerprint
    }

    /// A plain file to read the rotation's bytes from: itself, or a decompressed copy in
    /// `directory` (removed after upload).
    func materialize(in directory: URL) throws -> (file: URL, info: LogFileInfo, scratch: Bool) {
        guard compressed else { return (URL(fileURLWithPath: path), info, false) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let target = directory.appendingPathComponent("rotation-\(info.device)-\(info.inode).log")
        FileManager.default.createFile(atPath: target.path, contents: nil)
        let output = try FileHandle(forWritingTo: target)
        defer { try? output.close() }
        do {
            var source = try GzipChunkSource(try FileChunkSource(url: URL(fileURLWithPath: path)))
            while let chunk = try source.nextChunk() {
                try output.write(contentsOf: chunk.readableBytesView)
            }
        } catch {
            throw AgentError(.storage, "cannot decompress the rotated log \(path): \(error)")
        }
        var plain = try LogFileInfo(path: target.path)
        plain.mtime = info.mtime
        return (target, plain, true)
    }
}
