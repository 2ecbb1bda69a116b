/// The order of telexes in a session (Fig. 4), checked by each receiver.
///
/// A receiver keeps one of these and asks it about every telex it gets; a telex that may
/// not follow the previous one is refused with `out-of-sequence` (e.g. 50 before 1040).
/// Error telexes (90/1090) are allowed at any point and end the session.
public struct TelexSequence: Sendable {
    /// Which side is receiving.
    public enum Role: Sendable {
        /// The server, receiving the terminal's telexes.
        case server
        /// The terminal, receiving the server's telexes.
        case terminal
    }

    /// The receiving side.
    public let role: Role
    /// The last telex accepted, nil before the first.
    public private(set) var last: TelexCode?

    /// Starts a fresh sequence for one session.
    public init(role: Role) {
        self.role = role
    }

    /// The codes that may come next.
    public var expected: [TelexCode] {
        switch role {
        case .server: Self.serverTransitions(after: last)
        case .terminal: Self.terminalTransitions(after: last)
        }
    }

    /// Accepts `code` as the next telex or throws `out-of-sequence`.
    public mutating func receive(_ code: TelexCode) throws(TelexError) {
        if code == .terminalError || code == .serverError {
            guard (role == .server) == (code == .terminalError) else {
                throw TelexError(.outOfSequence, "telex \(code) travels the other way", code: code.rawValue)
            }
            last = code
            return
        }
        let allowed = expected
        guard allowed.contains(code) else {
            let after = last.map { "after \($0)" } ?? "as the first telex"
            let wanted = allowed.map { String($0.rawValue) }.joined(separator: ", ")
            throw TelexError(
                .outOfSequence,
                "telex \(code) is not allowed \(after); expected \(wanted.isEmpty ? "nothing" : wanted)",
                code: code.rawValue
            )
        }
        last = code
    }

    static func serverTransitions(after last: TelexCode?) -> [TelexCode] {
        switch last {
        case nil: [.discover]
        case .discover: [.authenticate]
        case .authenticate: [.position, .inventory, .end]
        case .position: [.inventory, .position, .deliveryStatus, .deliveryFinished, .end]
        case .inventory: [.position, .deliveryStatus, .deliveryFinished, .end]
        case .deliveryStatus: [.deliveryStatus, .deliveryFinished, .end]
        case .deliveryFinished, .collectedData: [.collectedData, .end]
        default: []
        }
    }

    static func terminalTransitions(after last: TelexCode?) -> [TelexCode] {
        switch last {
        case nil: [.serverAddress]
        case .serverAddress: [.authResult]
        case .authResult: [.positionRequest, .delivery, .endAck]
        case .positionRequest: [.delivery, .endAck]
        case .delivery: [.delivery, .collectInstruction, .endAck]
        case .collectInstruction, .collectionStatus: [.collectionStatus, .endAck]
        default: []
        }
    }
}
