/// The frames that carry file bytes (1030 `Delivery.chunk`, 50 `CollectedData.chunk`),
/// written and read without building protobuf messages.
///
/// Why: these frames are nearly all of a transfer's bytes. Going through the generated
/// messages copies each chunk three or four times (into `Data`, into the serialized body,
/// into the frame, into the socket buffer); here the sender writes a few header bytes and
/// then the file's bytes straight into the outgoing buffer, and the receiver finds the data's
/// range in the received buffer. The bytes on the wire are the same protobuf encoding the
/// generated code produces and accepts (both oneofs put `Chunk` in field 2), so either side
/// may use either path.
public enum ChunkFrame {
    /// The bytes before the data: telex code, oneof field 2 tag and length, then the
    /// `Chunk`'s item id (field 1), offset (field 2) and the data's tag and length (field 3).
    public static func header(code: TelexCode, itemID: String, offset: UInt64, count: Int) -> [UInt8] {
        var chunk: [UInt8] = []
        let id = Array(itemID.utf8)
        if !id.isEmpty {
            chunk.append(0x0A)
            appendVarint(UInt64(id.count), to: &chunk)
            chunk += id
        }
        if offset != 0 {
            chunk.append(0x10)
            appendVarint(offset, to: &chunk)
        }
        if count > 0 {
            chunk.append(0x1A)
            appendVarint(UInt64(count), to: &chunk)
        }
        var frame: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xff), 0x12]
        appendVarint(UInt64(chunk.count + count), to: &frame)
        return frame + chunk
    }

    /// A chunk found in a frame: the item, the offset, and where its data lies in the frame.
    public struct Parsed: Sendable, Equatable {
        public var itemID: String
        public var offset: UInt64
        public var data: Range<Int>
    }

    /// Reads a chunk frame of `code`; nil when the frame is anything else (another telex,
    /// another oneof case, fields in an unexpected shape), so the caller takes the general path.
    public static func parse(_ frame: UnsafeRawBufferPointer, code: TelexCode) -> Parsed? {
        guard frame.count >= 3, frame[0] == UInt8(code.rawValue >> 8), frame[1] == UInt8(code.rawValue & 0xff), frame[2] == 0x12 else {
            return nil
        }
        var position = 3
        guard let length = readVarint(frame, &position), length == UInt64(frame.count - position) else { return nil }
        var itemID = ""
        var offset: UInt64 = 0
        var data = position..<position
        while position < frame.count {
            guard let tag = readVarint(frame, &position) else { return nil }
            switch tag {
            case 0x0A, 0x1A:
                guard let size = readVarint(frame, &position), size <= UInt64(frame.count - position) else { return nil }
                let range = position..<(position + Int(size))
                if tag == 0x0A {
                    guard let text = String(validating: UnsafeRawBufferPointer(rebasing: frame[range]), as: UTF8.self) else { return nil }
                    itemID = text
                } else {
                    data = range
                }
                position = range.upperBound
            case 0x10:
                guard let value = readVarint(frame, &position) else { return nil }
                offset = value
            default:
                return nil
            }
        }
        return Parsed(itemID: itemID, offset: offset, data: data)
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 64 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
