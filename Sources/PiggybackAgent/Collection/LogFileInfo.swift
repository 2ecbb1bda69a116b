import Crypto
import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

/// What `stat` says about a log file, and its fingerprint.
struct LogFileInfo: Sendable {
    var device: UInt64
    var inode: UInt64
    var size: UInt64
    var mtime: Date
    var isRegular: Bool

    init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AgentError(.storage, "cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = UInt64(max(0, info.st_size))
        mtime = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Whether this is the file a cursor was taken on.
    func same(as cursor: LogCursor) -> Bool {
        device == cursor.device && inode == cursor.inode
    }

    /// SHA-256 (hex) of the first `count` bytes of `file`; empty when it is shorter.
    static func fingerprint(of file: URL, count: UInt64) throws -> String {
        guard count > 0 else { return "" }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        guard let data = try handle.read(upToCount: Int(count)), data.count == Int(count) else { return "" }
        return Hex.encode(SHA256.hash(data: data))
    }

    /// SHA-256 (hex) of a prefix given as bytes (a decompressed rotation's start).
    static func fingerprint(of prefix: some DataProtocol, count: UInt64) -> String {
        guard count > 0, prefix.count >= Int(count) else { return "" }
        return Hex.encode(SHA256.hash(data: Data(prefix.prefix(Int(count)))))
    }
}
