import NIOCore

/// Splits gpsd's stream into lines (`\n`, an optional `\r` is left to the JSON decoder),
/// refusing any line longer than the bound so a runaway peer cannot grow the buffer.
struct GPSDLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maxLineBytes: Int

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = try Self.nextLine(in: &buffer, maxLineBytes: maxLineBytes) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A partial line at EOF is dropped: gpsd always ends its reports with a newline.
        while let line = try Self.nextLine(in: &buffer, maxLineBytes: maxLineBytes) {
            context.fireChannelRead(wrapInboundOut(line))
        }
        return .needMoreData
    }

    /// Takes the next complete line (without its `\n`) off the buffer; nil when none is complete.
    /// Throws when a line, complete or not, exceeds `maxLineBytes`.
    static func nextLine(in buffer: inout ByteBuffer, maxLineBytes: Int) throws(GPSDProtocolError) -> ByteBuffer? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > maxLineBytes { throw .lineTooLong(limit: maxLineBytes) }
            return nil
        }
        let length = newline - buffer.readerIndex
        if length > maxLineBytes { throw .lineTooLong(limit: maxLineBytes) }
        guard let line = buffer.readSlice(length: length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        return line
    }
}
