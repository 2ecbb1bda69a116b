/// A telex-level failure: what went wrong, in words a person can act on, and the
/// machine-readable reason that travels in a 90/1090.
public struct TelexError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Machine-readable reason; the same enumeration the wire uses.
    public var reason: WireErrorReason
    /// Human-readable explanation.
    public var message: String
    /// The telex code that caused the error, when known.
    public var code: UInt16?

    /// Creates an error with its reason, message and (optionally) the offending code.
    public init(_ reason: WireErrorReason, _ message: String, code: UInt16? = nil) {
        self.reason = reason
        self.message = message
        self.code = code
    }

    /// Rebuilds the error a peer sent us in a 90/1090.
    public init(wire: WireError) {
        self.init(wire.reason, wire.message, code: wire.code == 0 ? nil : UInt16(clamping: wire.code))
    }

    /// The body of the 90/1090 telex reporting this error.
    public var wire: WireError {
        var error = WireError()
        error.reason = reason
        error.message = message
        error.code = UInt32(code ?? 0)
        return error
    }

    /// The stable lower-case name of the reason (`out-of-sequence`), used in logs and JSON.
    public var reasonName: String { reason.name }

    public var description: String {
        if let code { return "\(reasonName) (telex \(code)): \(message)" }
        return "\(reasonName): \(message)"
    }
}

extension WireErrorReason {
    /// The stable lower-case name of the reason.
    public var name: String {
        switch self {
        case .unspecified: "unspecified"
        case .malformed: "malformed"
        case .truncated: "truncated"
        case .oversized: "oversized"
        case .unknownCode: "unknown-code"
        case .outOfSequence: "out-of-sequence"
        case .unsupportedVersion: "unsupported-version"
        case .authDenied: "auth-denied"
        case .internal: "internal"
        case .storage: "storage"
        case .invalid: "invalid"
        case .UNRECOGNIZED(let value): "reason-\(value)"
        }
    }
}
