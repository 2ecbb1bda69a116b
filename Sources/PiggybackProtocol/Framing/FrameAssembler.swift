/// Collects the fragments of one WebSocket message into a telex frame, enforcing the
/// frame limit while the fragments arrive (not after buffering them all).
///
/// Transport-neutral: each side feeds it the fragments its WebSocket library yields.
public struct FrameAssembler: Sendable {
    /// Frames above this size are refused as oversized.
    public let maxFrameSize: Int
    var buffer: [UInt8] = []
    var inMessage = false

    /// Creates an assembler with the given limit.
    public init(maxFrameSize: Int = TelexCodec.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// No message is half assembled: the next fragment starts a new one.
    public var isIdle: Bool { !inMessage }

    /// Adds one fragment; returns the whole frame when `fin` closes it.
    /// - Parameters:
    ///   - bytes: the fragment's payload
    ///   - isText: telexes are binary; a text message is refused as malformed
    ///   - isContinuation: whether the fragment continues a message
    ///   - fin: whether it is the message's last fragment
    public mutating func append(_ bytes: some Collection<UInt8>, isText: Bool, isContinuation: Bool, fin: Bool) throws(TelexError) -> [UInt8]? {
        if isText {
            throw TelexError(.malformed, "telexes travel as binary WebSocket messages, not text")
        }
        if isContinuation != inMessage {
            throw TelexError(.malformed, isContinuation ? "continuation fragment without a message" : "new message inside an unfinished one")
        }
        guard buffer.count + bytes.count <= maxFrameSize else {
            let code = TelexCodec.peekCode(buffer.isEmpty ? Array(bytes.prefix(2)) : buffer)
            buffer = []
            inMessage = false
            throw TelexError(.oversized, "frame exceeds the limit of \(maxFrameSize) bytes", code: code)
        }
        buffer.append(contentsOf: bytes)
        if fin {
            defer { buffer = []; inMessage = false }
            return buffer
        }
        inMessage = true
        return nil
    }
}
