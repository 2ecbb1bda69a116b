import Foundation

/// The one open question about an offer, as `piggyback agent consent` shows it; the id
/// lets an answer name the question it was given for, so it cannot land on a newer one.
public struct ConsentQuestion: Sendable, Codable, Equatable {
    /// Short random id (8 hex digits).
    public var id: String
    /// The offered items.
    public var items: [ConsentItem]
    /// When the question was opened.
    public var askedAt: Date
    /// When the configured default answers it.
    public var deadline: Date
    /// The answer taken at the deadline, when the asker said.
    public var defaultAnswer: ConsentAnswer?

    /// Creates a question.
    public init(id: String, items: [ConsentItem], askedAt: Date, deadline: Date, defaultAnswer: ConsentAnswer? = nil) {
        self.id = id
        self.items = items
        self.askedAt = askedAt
        self.deadline = deadline
        self.defaultAnswer = defaultAnswer
    }

    /// Whole seconds until the deadline (rounded up, never negative).
    public func secondsLeft(now: Date = Date()) -> Int {
        max(0, Int(deadline.timeIntervalSince(now).rounded(.up)))
    }

    /// Bytes of all items together.
    public var totalSize: UInt64 {
        items.reduce(0) { $0 &+ $1.size }
    }
}
