import Foundation

/// One piece of a growing source to upload: a byte range of a file on disk (the live log,
/// a renamed rotation, or a decompressed rotation or journal excerpt in the outbox), where
/// it sits in the source's stream, and the cursor to save once the server has stored it.
struct LogSegment: Sendable {
    /// The path the server indexes (the log path as ordered, or `journal:UNIT`).
    var source: String
    /// The file holding the bytes.
    var file: URL
    /// First byte of the range in `file`, and its length.
    var start: UInt64
    var count: UInt64
    /// Where the range starts in the source's stream.
    var streamOffset: UInt64
    var mtime: Date
    /// The cursor once this segment is stored.
    var cursorAfter: LogCursor
    /// A scratch file to remove once the segment is stored (decompressed rotations, journal text).
    var scratch: Bool = false
}
