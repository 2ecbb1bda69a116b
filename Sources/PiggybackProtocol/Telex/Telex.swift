/// One telex: its code and its typed body.
///
/// Each case carries the generated message for that code, so a switch over a received
/// telex is exhaustive and cannot confuse two bodies of the same shape.
public enum Telex: Sendable, Equatable {
    case discover(WireDiscover)
    case serverAddress(WireServerAddress)
    case authenticate(WireAuthenticate)
    case authResult(WireAuthResult)
    case position(WirePosition)
    case positionRequest(WirePositionRequest)
    case inventory(WireInventory)
    case delivery(WireDelivery)
    case deliveryStatus(WireDeliveryStatus)
    case end(WireEnd)
    case endAck(WireEndAck)
    case deliveryFinished(WireDeliveryFinished)
    case collectInstruction(WireCollectInstruction)
    case collectedData(WireCollectedData)
    case collectionStatus(WireCollectionStatus)
    case terminalError(WireError)
    case serverError(WireError)

    /// The code that goes on the wire in front of the body.
    public var code: TelexCode {
        switch self {
        case .discover: .discover
        case .serverAddress: .serverAddress
        case .authenticate: .authenticate
        case .authResult: .authResult
        case .position: .position
        case .positionRequest: .positionRequest
        case .inventory: .inventory
        case .delivery: .delivery
        case .deliveryStatus: .deliveryStatus
        case .end: .end
        case .endAck: .endAck
        case .deliveryFinished: .deliveryFinished
        case .collectInstruction: .collectInstruction
        case .collectedData: .collectedData
        case .collectionStatus: .collectionStatus
        case .terminalError: .terminalError
        case .serverError: .serverError
        }
    }

    /// The error telex a given side sends to report `error`.
    public static func error(_ error: TelexError, fromServer: Bool) -> Telex {
        fromServer ? .serverError(error.wire) : .terminalError(error.wire)
    }
}
