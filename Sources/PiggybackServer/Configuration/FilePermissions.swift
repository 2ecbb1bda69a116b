import Foundation

/// Writes files that must be readable by their owner only (keys, tokens).
enum FilePermissions {
    /// Writes `text` to `url` with mode 0600, creating it that way so it is never readable by others.
    static func writeSecret(_ text: String, to url: URL) throws {
        let path = url.path
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ServerError(.configuration, "cannot write \(tmp); is the data directory writable?")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tmp)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
    }
}
