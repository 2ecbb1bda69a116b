import Foundation

/// Holds the one open question about an offer so the control socket can show and answer
/// it (`piggyback agent consent`); shared by the daemon, which serves the socket, and the
/// session, which asks. A newer question supersedes an older one (sessions run one at a time).
public actor ConsentBroker {
    struct Open {
        var question: ConsentQuestion
        /// Wakes the asker when an answer arrives; finished when superseded.
        var signal: AsyncStream<Void>.Continuation
        var answer: ConsentAnswer?
    }

    private var open: Open?

    /// Creates a broker with no question open.
    public init() {}

    /// Opens a question and waits for an answer from ``answer(_:id:)``, up to `timeout`;
    /// nil at the timeout, when cancelled or when a newer question supersedes this one.
    /// An answer ``answer(_:id:)`` accepted (returned true for) is always the one returned.
    /// `defaultAnswer` is only shown to the user (what happens at the deadline).
    public func ask(_ items: [ConsentItem], timeout: Duration, defaultAnswer: ConsentAnswer? = nil) async -> ConsentAnswer? {
        let now = Date()
        let question = ConsentQuestion(
            id: Self.makeID(), items: items, askedAt: now,
            deadline: now.addingTimeInterval(max(0, timeout.seconds)), defaultAnswer: defaultAnswer
        )
        let (answered, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        open?.signal.finish()
        open = Open(question: question, signal: signal, answer: nil)
        await withTaskGroup(of: Void.self) { group in
            // Both children end on cancellation: the stream's iteration and the sleep.
            group.addTask { for await _ in answered { return } }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        guard let current = open, current.question.id == question.id else { return nil }
        open = nil
        current.signal.finish()
        return current.answer
    }

    /// The open question, for `piggyback agent consent` (nil when none, or when it is
    /// already answered and the asker has not yet taken the answer).
    public func pending() -> ConsentQuestion? {
        guard let open, open.answer == nil else { return nil }
        return open.question
    }

    /// Answers the open question (its id must match if given); false when none is open,
    /// it is already answered, or the id names another question.
    public func answer(_ answer: ConsentAnswer, id: String?) -> Bool {
        guard var current = open, current.answer == nil else { return false }
        if let id, id != current.question.id { return false }
        current.answer = answer
        open = current
        current.signal.yield()
        return true
    }

    static func makeID() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
