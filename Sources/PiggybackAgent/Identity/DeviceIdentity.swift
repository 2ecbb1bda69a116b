import Crypto
import Foundation
import PiggybackProtocol

/// The terminal's identity: a random device id and an Ed25519 key pair, kept in the data
/// directory (mode 0600). The id never derives from hostname or MAC; the private key never
/// leaves the terminal.
public struct DeviceIdentity: Sendable {
    /// Stable random id (a UUID).
    public let deviceID: String
    /// The raw private key (Crypto's key types are not `Sendable`; this is rebuilt on use).
    let privateKey: [UInt8]
    /// The raw public key sent once, at enrollment.
    public let publicKey: [UInt8]

    init(deviceID: String, key: Curve25519.Signing.PrivateKey) {
        self.deviceID = deviceID
        self.privateKey = Array(key.rawRepresentation)
        self.publicKey = Array(key.publicKey.rawRepresentation)
    }

    /// Signs the challenge transcript of one session.
    func sign(challenge: [UInt8], serverID: String) throws -> [UInt8] {
        let transcript = AuthenticationTranscript.bytes(challenge: challenge, serverID: serverID, deviceID: deviceID)
        return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey).signature(for: transcript))
    }

    struct Stored: Codable {
        var device_id: String
        var private_key: String
        var created_at: Date
    }

    static func url(in directory: URL) -> URL { directory.appendingPathComponent("identity.json") }

    /// Loads the identity, or nil when the terminal has none yet.
    static func load(from directory: URL) throws -> DeviceIdentity? {
        let url = url(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let stored = try decoder.decode(Stored.self, from: Data(contentsOf: url))
            guard let raw = Base64URL.decode(stored.private_key) else { throw AgentError(.identity, "bad key encoding") }
            return DeviceIdentity(deviceID: stored.device_id, key: try Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        } catch {
            throw AgentError(.identity, "the identity in \(url.path) cannot be read (\(error)); restore it, or remove it and enroll again")
        }
    }

    /// Creates and stores a fresh identity.
    static func create(in directory: URL) throws -> DeviceIdentity {
        let identity = DeviceIdentity(deviceID: UUID().uuidString.lowercased(), key: Curve25519.Signing.PrivateKey())
        let stored = Stored(device_id: identity.deviceID, private_key: Base64URL.encode(identity.privateKey), created_at: Date())
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecretFile.write(try encoder.encode(stored), to: url(in: directory))
        return identity
    }
}
