import Crypto
import Foundation
import PiggybackProtocol

/// The bearer token that guards the admin API, created on first start (mode 0600).
public struct AdminToken: Sendable {
    /// The token text.
    public let value: String
    /// True when this start created it (the CLI prints it once, then).
    public let created: Bool

    /// Reads `DIR/admin-token`, creating it with a fresh random token if missing.
    public static func loadOrCreate(in directory: URL) throws -> AdminToken {
        let url = directory.appendingPathComponent("admin-token")
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return AdminToken(value: token, created: false) }
        }
        let token = "pba_" + Base64URL.encode(Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
        try FilePermissions.writeSecret(token + "\n", to: url)
        return AdminToken(value: token, created: true)
    }

    /// Constant-time comparison with a presented token.
    public func matches(_ presented: String) -> Bool {
        let a = Array(SHA256.hash(data: Data(value.utf8)))
        let b = Array(SHA256.hash(data: Data(presented.utf8)))
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
