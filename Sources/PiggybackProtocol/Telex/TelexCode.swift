/// The telex codes of Fig. 5 of the seed, plus the error telexes 90 and 1090.
///
/// The code travels on the wire in front of every message, so a receiver can tell what it
/// got (and refuse it by number) before decoding the body.
public enum TelexCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case discover = 10
    case authenticate = 20
    case inventory = 30
    case deliveryFinished = 40
    case collectedData = 50
    case position = 60
    case deliveryStatus = 70
    case end = 80
    case terminalError = 90
    case serverAddress = 1010
    case authResult = 1020
    case delivery = 1030
    case collectInstruction = 1040
    case endAck = 1050
    case positionRequest = 1060
    case collectionStatus = 1070
    case serverError = 1090

    /// The short name used in traces and logs (`→ 30 inventory 41 B`).
    public var name: String {
        switch self {
        case .discover: "discover"
        case .authenticate: "authenticate"
        case .inventory: "inventory"
        case .deliveryFinished: "delivery-finished"
        case .collectedData: "collected-data"
        case .position: "position"
        case .deliveryStatus: "delivery-status"
        case .end: "end"
        case .terminalError: "error"
        case .serverAddress: "server-address"
        case .authResult: "auth-result"
        case .delivery: "delivery"
        case .collectInstruction: "collect-instruction"
        case .endAck: "end-ack"
        case .positionRequest: "position-request"
        case .collectionStatus: "collection-status"
        case .serverError: "error"
        }
    }

    /// Whether the terminal sends this telex (codes below 1000) or the server does.
    public var isFromTerminal: Bool { rawValue < 1000 }

    public var description: String { "\(rawValue) \(name)" }
}
