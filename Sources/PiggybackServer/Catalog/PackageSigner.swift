import Crypto
import Foundation
import PiggybackProtocol

/// The server's package-signing key (Ed25519), kept in `DATA/package-signing.key` (0600).
///
/// Why a key of its own and not the TLS CA: the signature travels with the manifest and is
/// checked by the terminal before it installs anything, whoever relayed the bytes; the
/// terminal pins the public half at enrollment (it arrives in 1020 over the pinned TLS).
struct PackageSigner: Sendable {
    /// The raw private key (swift-crypto's key type is not `Sendable`).
    let rawKey: Data
    /// The raw 32-byte public key sent in 1020.
    let publicKey: Data

    init(key: Curve25519.Signing.PrivateKey) {
        rawKey = key.rawRepresentation
        publicKey = key.publicKey.rawRepresentation
    }

    /// Loads the key from `directory`, creating it on first start.
    static func loadOrCreate(in directory: URL) throws -> PackageSigner {
        let url = directory.appendingPathComponent("package-signing.key")
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else {
                throw ServerError(.configuration, "\(url.path) does not hold a base64 Ed25519 key; restore it from backup (terminals pinned its public key)")
            }
            return PackageSigner(key: key)
        }
        let key = Curve25519.Signing.PrivateKey()
        try FilePermissions.writeSecret(key.rawRepresentation.base64EncodedString() + "\n", to: url)
        return PackageSigner(key: key)
    }

    /// Serializes and signs a manifest.
    func sign(_ manifest: WirePackageManifest) throws -> (manifest: Data, signature: Data) {
        let bytes: Data = try manifest.serializedData()
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey)
        return (bytes, try key.signature(for: bytes))
    }
}
