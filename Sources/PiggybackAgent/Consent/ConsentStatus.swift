import Foundation

/// The control socket's answer to `consent`: the open question or `{"pending":null}`.
/// Pretty-printed JSON with sorted keys and ISO 8601 dates, e.g.
/// `{"pending":{"askedAt":"…","deadline":"…","default":"defer","id":"3fa2c1d0",
/// "items":[{"name":"curl","reason":"…","size":1234,"version":"8.5.0"}],"secondsLeft":97,"totalSize":1234}}`.
public struct ConsentStatus: Sendable, Codable, Equatable {
    /// The open question with the seconds left, as of when the daemon answered.
    public struct Pending: Sendable, Codable, Equatable {
        /// The question's id, to answer exactly it (`--id`).
        public var id: String
        /// The offered items.
        public var items: [ConsentItem]
        /// Bytes of all items.
        public var totalSize: UInt64
        /// When it was asked.
        public var askedAt: Date
        /// When the default answers it.
        public var deadline: Date
        /// Whole seconds until the deadline.
        public var secondsLeft: Int
        /// The answer taken at the deadline, when known.
        public var defaultAnswer: ConsentAnswer?

        enum CodingKeys: String, CodingKey {
            case id, items, totalSize, askedAt, deadline, secondsLeft
            case defaultAnswer = "default"
        }
    }

    /// The open question; nil when none.
    public var pending: Pending?

    enum CodingKeys: String, CodingKey { case pending }

    /// The status of `question` at `now`.
    public init(question: ConsentQuestion?, now: Date = Date()) {
        pending = question.map {
            Pending(
                id: $0.id, items: $0.items, totalSize: $0.totalSize, askedAt: $0.askedAt, deadline: $0.deadline,
                secondsLeft: $0.secondsLeft(now: now), defaultAnswer: $0.defaultAnswer
            )
        }
    }

    /// Writes `"pending": null` rather than leaving the key out, so readers see the field.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pending, forKey: .pending)
    }

    /// The JSON the control socket sends.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? #"{"pending":null}"#
    }

    /// Reads what ``json()`` wrote.
    public static func decode(_ text: String) throws -> ConsentStatus {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ConsentStatus.self, from: Data(text.utf8))
    }
}
