import Foundation

/// What an administrator hands to a terminal to enrol it: where the servers are, which
/// CA to pin, and a one-time secret.
///
/// The text form is `pb1.` followed by base64url JSON, so it survives copy and paste and
/// shell quoting.
public struct EnrollmentToken: Sendable, Equatable, Codable {
    /// Agent endpoints in order of preference (`wss://host:port/v1/session`).
    public var servers: [String]
    /// SHA-256 of the server CA certificate (DER), lower-case hex.
    public var caFingerprint: String
    /// The secret the server checks at first contact.
    public var secret: String

    static let prefix = "pb1."

    /// Creates a token.
    public init(servers: [String], caFingerprint: String, secret: String) {
        self.servers = servers
        self.caFingerprint = caFingerprint
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey {
        case servers
        case caFingerprint = "ca_sha256"
        case secret
    }

    /// The text form an administrator copies.
    public var encoded: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(self)) ?? Data()
        return Self.prefix + Base64URL.encode(Array(data))
    }

    /// Parses the text form; the error says what is wrong with the token.
    public init(parsing text: String) throws(TelexError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else {
            throw TelexError(.invalid, "enrollment token must start with \"\(Self.prefix)\"; copy it whole from `piggyback admin enroll-token`")
        }
        guard let bytes = Base64URL.decode(String(trimmed.dropFirst(Self.prefix.count))) else {
            throw TelexError(.invalid, "enrollment token is not valid base64url; was it cut while copying?")
        }
        let token: EnrollmentToken
        do {
            token = try JSONDecoder().decode(EnrollmentToken.self, from: Data(bytes))
        } catch {
            throw TelexError(.invalid, "enrollment token does not contain the expected fields: \(error)")
        }
        guard !token.servers.isEmpty else { throw TelexError(.invalid, "enrollment token names no server") }
        guard token.caFingerprint.count == 64, token.caFingerprint.allSatisfy(\.isHexDigit) else {
            throw TelexError(.invalid, "enrollment token has no valid CA fingerprint (64 hex digits)")
        }
        guard !token.secret.isEmpty else { throw TelexError(.invalid, "enrollment token has an empty secret") }
        self = token
    }
}
