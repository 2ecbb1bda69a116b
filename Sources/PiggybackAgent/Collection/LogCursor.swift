import Foundation

/// How far a growing source has been collected for one order: the next session sends only
/// what comes after it.
///
/// A plain log is known by its file identity (device, inode) and a fingerprint of its first
/// bytes, so a rotation (renamed, compressed, or copied and truncated) is recognised and the
/// rest of the old file is sent before the new one starts from zero. The journal is known by
/// journald's cursor.
public struct LogCursor: Sendable, Equatable {
    /// The order this cursor belongs to (two orders on one log each have their own).
    public var orderID: String
    /// The log path as the order named it, or `journal` / `journal:UNIT`.
    public var source: String
    /// `st_dev` and `st_ino` of the file the offset belongs to.
    public var device: UInt64 = 0
    public var inode: UInt64 = 0
    /// Bytes of that file already stored by the server.
    public var offset: UInt64 = 0
    /// Where that file starts in the source's stream (bytes of earlier rotations sent under
    /// this cursor); `stream_offset` of a segment is this plus its start in the file.
    public var streamBase: UInt64 = 0
    /// SHA-256 (hex) of the file's first `min(offset, fingerprintBytes)` bytes.
    public var fingerprint: String = ""
    /// journald's cursor after the last stored entry.
    public var journalCursor: String = ""
    /// A segment announced but not yet stored: the next session sends exactly this range
    /// again first, so the server can resume its partial (same bytes, same digest).
    public var pendingEnd: UInt64 = 0

    /// Bytes hashed for the fingerprint: enough to tell one rotation from the next (the
    /// first line of a log usually carries a time stamp), little to read.
    public static let fingerprintBytes: UInt64 = 4096

    public init(orderID: String, source: String) {
        self.orderID = orderID
        self.source = source
    }

    /// The stream position reached.
    public var streamOffset: UInt64 { streamBase + offset }
}
