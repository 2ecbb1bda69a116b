import Foundation
import PiggybackProtocol

/// What the terminal keeps of its enrollment token: the servers, the pinned CA
/// fingerprint, and the secret until the server has accepted the terminal once.
struct EnrollmentState: Codable, Sendable {
    var servers: [String]
    var ca_sha256: String
    /// Dropped after the first accepted session: it is needed only at first contact.
    var secret: String?
    var enrolled_at: Date?

    static func url(in directory: URL) -> URL { directory.appendingPathComponent("enrollment.json") }

    static func load(from directory: URL) throws -> EnrollmentState? {
        let url = url(in: directory)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(EnrollmentState.self, from: Data(contentsOf: url))
        } catch {
            throw AgentError(.identity, "\(url.path) cannot be read (\(error)); enroll again with a new token")
        }
    }

    func save(in directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecretFile.write(try encoder.encode(self), to: Self.url(in: directory))
    }
}
