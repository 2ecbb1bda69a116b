import Foundation

extension ConsentBroker {
    /// The control socket's answer to a consent request: the JSON of ``ConsentStatus`` for
    /// `consent`; `ok: accepted question ID` / `ok: deferred question ID` or `error: …`
    /// for an answer. One actor call, so what it checks is what it answers.
    public func controlAnswer(to request: ConsentRequest, now: Date = Date()) -> String {
        switch request {
        case .show:
            return ConsentStatus(question: pending(), now: now).json()
        case .answer(let answer, let id):
            guard let question = pending() else {
                return "error: no question about downloads is pending (it may have been answered or timed out)"
            }
            if let id, id != question.id {
                return "error: question \(id) is no longer open; the open question is \(question.id): look at it with `piggyback agent consent`"
            }
            guard self.answer(answer, id: question.id) else { return "error: question \(question.id) was answered meanwhile" }
            return "ok: \(answer == .accept ? "accepted" : "deferred") question \(question.id)"
        }
    }
}
