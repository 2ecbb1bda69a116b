import Foundation

/// Files only the agent's user may read (mode 0600): the device key, the token.
enum SecretFile {
    static func write(_ data: Data, to url: URL) throws {
        let tmp = url.path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw AgentError(.storage, "cannot write \(tmp); is \(url.deletingLastPathComponent().path) writable?")
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: tmp)
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(atPath: tmp, toPath: url.path)
    }
}
