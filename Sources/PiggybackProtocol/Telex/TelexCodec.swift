import SwiftProtobuf

/// Turns telexes into frames and back.
///
/// A frame is the 2-byte big-endian telex code followed by the protobuf body. Decoding
/// never traps: every way a frame can be wrong maps to a ``TelexError`` that the session
/// answers with a 90/1090.
public struct TelexCodec: Sendable {
    /// The default upper bound for one frame, header included.
    public static let defaultMaxFrameSize = 4 << 20

    /// Frames above this size are refused as oversized, before any decoding.
    public var maxFrameSize: Int

    /// Creates a codec with the given frame limit.
    public init(maxFrameSize: Int = TelexCodec.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Encodes a telex into one frame.
    public func encode(_ telex: Telex) throws(TelexError) -> [UInt8] {
        let code = telex.code.rawValue
        var frame: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xff)]
        do {
            let body: [UInt8] = try Self.body(of: telex).serializedBytes()
            frame.append(contentsOf: body)
        } catch {
            throw TelexError(.internal, "could not encode telex \(telex.code): \(error)", code: code)
        }
        guard frame.count <= maxFrameSize else {
            throw TelexError(.oversized, "telex \(telex.code) is \(frame.count) bytes, the limit is \(maxFrameSize)", code: code)
        }
        return frame
    }

    /// Reads the code of a frame without decoding the body; nil when the frame is too short.
    public static func peekCode(_ frame: some Collection<UInt8>) -> UInt16? {
        guard frame.count >= 2 else { return nil }
        var iterator = frame.makeIterator()
        guard let high = iterator.next(), let low = iterator.next() else { return nil }
        return UInt16(high) << 8 | UInt16(low)
    }

    /// Decodes one frame into a telex.
    public func decode(_ frame: [UInt8]) throws(TelexError) -> Telex {
        guard frame.count <= maxFrameSize else {
            throw TelexError(.oversized, "frame of \(frame.count) bytes exceeds the limit of \(maxFrameSize)", code: Self.peekCode(frame))
        }
        guard let raw = Self.peekCode(frame) else {
            throw TelexError(.truncated, "frame of \(frame.count) bytes is shorter than the 2-byte telex code")
        }
        guard let code = TelexCode(rawValue: raw) else {
            throw TelexError(.unknownCode, "unknown telex code \(raw)", code: raw)
        }
        let body = frame[2...]
        do {
            return try Self.telex(code: code, body: body)
        } catch let error as BinaryDecodingError {
            let reason: WireErrorReason = error == .truncated ? .truncated : .malformed
            throw TelexError(reason, "telex \(code) body does not decode: \(error)", code: raw)
        } catch {
            throw TelexError(.malformed, "telex \(code) body does not decode: \(error)", code: raw)
        }
    }

    static func body(of telex: Telex) -> any SwiftProtobuf.Message {
        switch telex {
        case .discover(let m): m
        case .serverAddress(let m): m
        case .authenticate(let m): m
        case .authResult(let m): m
        case .position(let m): m
        case .positionRequest(let m): m
        case .inventory(let m): m
        case .delivery(let m): m
        case .deliveryStatus(let m): m
        case .end(let m): m
        case .endAck(let m): m
        case .deliveryFinished(let m): m
        case .collectInstruction(let m): m
        case .collectedData(let m): m
        case .collectionStatus(let m): m
        case .terminalError(let m): m
        case .serverError(let m): m
        }
    }

    static func telex(code: TelexCode, body: ArraySlice<UInt8>) throws -> Telex {
        let bytes = Array(body)
        switch code {
        case .discover: return .discover(try WireDiscover(serializedBytes: bytes))
        case .serverAddress: return .serverAddress(try WireServerAddress(serializedBytes: bytes))
        case .authenticate: return .authenticate(try WireAuthenticate(serializedBytes: bytes))
        case .authResult: return .authResult(try WireAuthResult(serializedBytes: bytes))
        case .position: return .position(try WirePosition(serializedBytes: bytes))
        case .positionRequest: return .positionRequest(try WirePositionRequest(serializedBytes: bytes))
        case .inventory: return .inventory(try WireInventory(serializedBytes: bytes))
        case .delivery: return .delivery(try WireDelivery(serializedBytes: bytes))
        case .deliveryStatus: return .deliveryStatus(try WireDeliveryStatus(serializedBytes: bytes))
        case .end: return .end(try WireEnd(serializedBytes: bytes))
        case .endAck: return .endAck(try WireEndAck(serializedBytes: bytes))
        case .deliveryFinished: return .deliveryFinished(try WireDeliveryFinished(serializedBytes: bytes))
        case .collectInstruction: return .collectInstruction(try WireCollectInstruction(serializedBytes: bytes))
        case .collectedData: return .collectedData(try WireCollectedData(serializedBytes: bytes))
        case .collectionStatus: return .collectionStatus(try WireCollectionStatus(serializedBytes: bytes))
        case .terminalError: return .terminalError(try WireError(serializedBytes: bytes))
        case .serverError: return .serverError(try WireError(serializedBytes: bytes))
        }
    }
}
