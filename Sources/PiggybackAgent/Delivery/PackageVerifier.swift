import Crypto
import Foundation
import PiggybackProtocol

/// Checks each offered package's manifest against the server's package-signing key, which
/// the terminal pins at enrollment (`DATA/package-signing.pub`).
///
/// Why a pin and not just the TLS channel: the manifest tells the terminal what to run and
/// where to write; a key fixed at enrollment means a compromised or substituted server
/// database cannot make terminals install something the signing key never signed.
struct PackageVerifier: Sendable {
    /// The pinned key's raw bytes, nil when there is none to trust.
    let key: Data?
    /// Why every manifest is refused, when `key` is nil.
    let problem: String
    /// The server this session talks to; a manifest issued by another is refused.
    let serverID: String

    static func url(in directory: URL) -> URL { directory.appendingPathComponent("package-signing.pub") }

    /// Pins the key the server sent in 1020 on first sight; later keys must equal it.
    static func pinned(offered: Data, serverID: String, directory: URL) throws -> PackageVerifier {
        let file = url(in: directory)
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            guard let stored = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), stored.count == 32 else {
                return PackageVerifier(key: nil, problem: "\(file.path) is damaged; re-enroll this terminal", serverID: serverID)
            }
            guard offered.isEmpty || offered == stored else {
                return PackageVerifier(
                    key: nil,
                    problem: "the server's package-signing key changed (pinned \(Hex.encode(stored.prefix(6)))…, offered \(Hex.encode(offered.prefix(6)))…); re-enroll the terminal to trust a new key",
                    serverID: serverID)
            }
            return PackageVerifier(key: stored, problem: "", serverID: serverID)
        }
        guard offered.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: offered)) != nil else {
            return PackageVerifier(key: nil, problem: "the server sent no package-signing key; nothing can be verified", serverID: serverID)
        }
        try SecretFile.write(Data((offered.base64EncodedString() + "\n").utf8), to: file)
        return PackageVerifier(key: offered, problem: "", serverID: serverID)
    }

    /// The manifest of `item` when its signature verifies and it describes exactly the
    /// offered bytes; otherwise why not.
    func verify(_ item: WireOfferItem) -> Result<WirePackageManifest, Refusal> {
        guard let key, let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key) else {
            return .failure(Refusal(problem))
        }
        guard !item.manifest.isEmpty, publicKey.isValidSignature(item.signature, for: item.manifest) else {
            return .failure(Refusal("manifest signature does not verify against the pinned package-signing key"))
        }
        guard let manifest = try? WirePackageManifest(serializedBytes: item.manifest) else {
            return .failure(Refusal("signed manifest does not decode"))
        }
        guard manifest.name == item.name, manifest.version == item.version, manifest.size == item.size, manifest.sha256 == item.sha256,
            manifest.sha256.count == 32
        else {
            return .failure(Refusal("the offer does not match its signed manifest (name, version, size or digest)"))
        }
        guard manifest.serverID == serverID else {
            return .failure(Refusal("manifest was issued by server \(manifest.serverID), not \(serverID)"))
        }
        guard ["files", "script", "deb"].contains(manifest.kind) else {
            return .failure(Refusal("manifest kind \(manifest.kind) is unknown to this agent; update the agent"))
        }
        return .success(manifest)
    }

    /// Why a manifest was refused.
    struct Refusal: Error, Sendable {
        let message: String
        init(_ message: String) { self.message = message }
    }
}
