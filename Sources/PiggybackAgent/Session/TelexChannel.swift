import NIOCore
import PiggybackProtocol

/// One session's telex stream over an upgraded WebSocket, as the terminal sees it:
/// framing, sequence checks, traces and byte counts.
///
/// A server that breaks the protocol gets a 90 before the agent gives up; a 1090 from the
/// server becomes an ``AgentError`` with the server's reason.
struct TelexChannel {
    var link: WebSocketLink
    let codec: TelexCodec
    let trace: SessionTrace
    var assembler: FrameAssembler
    /// A fragment read by `receiveDelivery` that the fast path left for the general one.
    var pending: WebSocketLink.Fragment?
    var sequence = TelexSequence(role: .terminal)
    /// Telex frame bytes sent and received (WebSocket and TLS overhead excluded).
    var bytesSent = 0
    var bytesReceived = 0

    init(link: WebSocketLink, maxFrameSize: Int, trace: SessionTrace) {
        self.link = link
        self.codec = TelexCodec(maxFrameSize: maxFrameSize)
        self.assembler = FrameAssembler(maxFrameSize: maxFrameSize)
        self.trace = trace
    }

    mutating func send(_ telex: Telex) async throws {
        let frame = try codec.encode(telex)
        try await link.send(ByteBuffer(bytes: frame))
        bytesSent += frame.count
        trace.record(sent: true, code: telex.code, payload: frame.count - 2)
    }

    /// The next telex; throws when the server ends the session with 1090 or breaks the protocol.
    mutating func receive() async throws -> Telex {
        let frame: [UInt8]
        do {
            frame = try await nextFrame()
        } catch let error as TelexError {
            try? await send(.terminalError(error.wire))
            throw AgentError(.refused, "the server sent a bad frame: \(error)", telex: error)
        }
        bytesReceived += frame.count
        let telex: Telex
        do {
            telex = try codec.decode(frame)
            trace.record(sent: false, code: telex.code, payload: frame.count - 2)
            try sequence.receive(telex.code)
        } catch {
            try? await send(.terminalError(error.wire))
            throw AgentError(.refused, "the server broke the protocol: \(error)", telex: error)
        }
        if case .serverError(let wire) = telex {
            let error = TelexError(wire: wire)
            throw AgentError(.refused, "the server refused the session: \(error)", telex: error)
        }
        return telex
    }

    /// What arrives during a download: a chunk (its data as received, not copied), or any other telex.
    enum Incoming {
        case chunk(itemID: String, offset: UInt64, data: ByteBuffer)
        case telex(Telex)
    }

    /// The next telex, with 1030 chunks taken straight from the WebSocket frame (see
    /// `ChunkFrame`); anything else, and any frame the fast path does not recognise, goes
    /// through `receive()`.
    mutating func receiveDelivery() async throws -> Incoming {
        guard assembler.isIdle, let fragment = try await link.next() else {
            return try await incoming(receive())
        }
        if fragment.opcode == .binary, fragment.fin, fragment.data.readableBytes <= codec.maxFrameSize,
            let parsed = fragment.data.withUnsafeReadableBytes({ ChunkFrame.parse($0, code: .delivery) })
        {
            do {
                try sequence.receive(.delivery)
            } catch {
                try? await send(.terminalError(error.wire))
                throw AgentError(.refused, "the server broke the protocol: \(error)", telex: error)
            }
            bytesReceived += fragment.data.readableBytes
            trace.record(sent: false, code: .delivery, payload: fragment.data.readableBytes - 2)
            let start = fragment.data.readerIndex
            let data = fragment.data.getSlice(at: start + parsed.data.lowerBound, length: parsed.data.count) ?? ByteBuffer()
            return .chunk(itemID: parsed.itemID, offset: parsed.offset, data: data)
        }
        pending = fragment
        return try await incoming(receive())
    }

    func incoming(_ telex: Telex) -> Incoming {
        if case .delivery(let delivery) = telex, case .chunk(let chunk)? = delivery.body {
            return .chunk(itemID: chunk.itemID, offset: chunk.offset, data: ByteBuffer(bytes: chunk.data))
        }
        return .telex(telex)
    }

    mutating func nextFrame() async throws -> [UInt8] {
        while let fragment = try await nextFragment() {
            if let frame = try assembler.append(
                fragment.data.readableBytesView,
                isText: fragment.opcode == .text,
                isContinuation: fragment.opcode == .continuation,
                fin: fragment.fin
            ) {
                return frame
            }
        }
        throw AgentError(.refused, "the server closed the connection in the middle of the session")
    }

    mutating func nextFragment() async throws -> WebSocketLink.Fragment? {
        if let fragment = pending {
            pending = nil
            return fragment
        }
        return try await link.next()
    }

    /// Sends a 90 reporting `error` and returns the matching agent error to throw.
    mutating func fail(_ error: TelexError) async -> AgentError {
        try? await send(.terminalError(error.wire))
        return AgentError(.refused, "session aborted: \(error)", telex: error)
    }
}
