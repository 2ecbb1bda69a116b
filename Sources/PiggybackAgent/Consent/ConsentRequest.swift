/// A consent request on the control socket: `consent` shows the open question,
/// `consent accept [ID]` and `consent defer [ID]` answer it.
public enum ConsentRequest: Sendable, Equatable {
    /// Show the open question (JSON, see ``ConsentStatus``).
    case show
    /// Answer the open question; with an id, only if it is still that question.
    case answer(ConsentAnswer, id: String?)

    /// Longest question id accepted on the socket.
    static let maxID = 64

    /// Parses the words after `consent`; nil when they are not a consent request.
    public init?(arguments: [Substring]) {
        switch arguments.count {
        case 0:
            self = .show
        case 1, 2:
            guard let answer = ConsentAnswer(rawValue: String(arguments[0])) else { return nil }
            let id = arguments.count == 2 ? String(arguments[1]) : nil
            if let id, id.count > Self.maxID || !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) { return nil }
            self = .answer(answer, id: id)
        default:
            return nil
        }
    }

    /// The request's words after `consent` on the wire.
    public var arguments: [String] {
        switch self {
        case .show: []
        case .answer(let answer, let id): [answer.rawValue] + (id.map { [$0] } ?? [])
        }
    }
}
