import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Finds what a plain log gained since its cursor, following rotations.
///
/// The cursor names the file (device, inode), how much of it was stored and a fingerprint of
/// its first bytes. If the log at `path` is still that file and still starts with those
/// bytes, only its tail travels. If it was rotated — renamed (`syslog.1`), compressed
/// (`syslog.2.gz`), copied and truncated, or dated (`messages-20261126`) — the rest of the old
/// file is found among its siblings by identity or fingerprint, any rotations newer than it
/// are sent whole, and the new file follows from byte zero. Nothing already stored is sent
/// again; what was rotated away beyond reach is reported, not guessed.
struct LogTail {
    /// The log as ordered and as resolved inside the roots.
    let path: String
    let resolved: String
    /// Where decompressed rotations are written before upload.
    let scratchDirectory: URL

    /// The segments to upload in order, and notes on anything lost.
    func plan(after cursor: LogCursor) throws -> (segments: [LogSegment], notes: [String]) {
        let current = try LogFileInfo(path: resolved)
        var notes: [String] = []
        var segments: [LogSegment] = []
        if cursor.inode != 0, current.same(as: cursor), current.size >= cursor.offset,
            try LogFileInfo.fingerprint(of: URL(fileURLWithPath: resolved), count: min(cursor.offset, LogCursor.fingerprintBytes)) == cursor.fingerprint
        {
            segments += try tail(of: current, file: URL(fileURLWithPath: resolved), from: cursor.offset, cursor: cursor, live: true)
            return (segments, notes)
        }
        var base = cursor.streamOffset
        if cursor.inode != 0 || cursor.offset > 0 {
            let rotations = try siblings()
            // The newest rotation is the likeliest holder; compressed ones are opened only this far.
            if let found = try rotations.lastIndex(where: { try $0.holds(cursor) }) {
                let old = try rotations[found].materialize(in: scratchDirectory)
                segments += try tail(of: old.info, file: old.file, from: min(cursor.offset, old.info.size), cursor: cursor, scratch: old.scratch)
                base = cursor.streamBase + old.info.size
                // Rotations newer than the one holding the cursor were never seen: whole.
                for rotation in rotations[(found + 1)...] {
                    let newer = try rotation.materialize(in: scratchDirectory)
                    var fresh = LogCursor(orderID: cursor.orderID, source: cursor.source)
                    fresh.streamBase = base
                    segments += try tail(of: newer.info, file: newer.file, from: 0, cursor: fresh, scratch: newer.scratch)
                    base += newer.info.size
                }
            } else {
                notes.append("\(path) was rotated and the uncollected rest of the old file is gone; collecting from the new file's start")
            }
        }
        var fresh = LogCursor(orderID: cursor.orderID, source: cursor.source)
        fresh.streamBase = base
        segments += try tail(of: current, file: URL(fileURLWithPath: resolved), from: 0, cursor: fresh, live: true)
        return (segments, notes)
    }

    /// The range `[from, size)` of a file, split at a pending end so an interrupted segment
    /// is sent again with the same bytes (and the server resumes it).
    ///
    /// The live log is cut after its last complete line (a line being written waits for the
    /// next collection), so the server's analysis never sees half a line; a rotated file is
    /// complete and goes whole.
    func tail(of info: LogFileInfo, file: URL, from offset: UInt64, cursor: LogCursor, scratch: Bool = false, live: Bool = false) throws -> [LogSegment] {
        var cuts: [UInt64] = [offset]
        if cursor.pendingEnd > offset, cursor.pendingEnd < info.size { cuts.append(cursor.pendingEnd) }
        var end = info.size
        if live, end > max(offset, cuts.last ?? offset) {
            end = try Self.lineEnd(of: file, from: max(offset, cursor.pendingEnd), to: end)
        }
        cuts.append(max(end, cuts.last ?? offset))
        var segments: [LogSegment] = []
        var after = cursor
        after.device = info.device
        after.inode = info.inode
        after.pendingEnd = 0
        for (start, end) in zip(cuts, cuts.dropFirst()) where end > start {
            after.offset = end
            after.fingerprint = try LogFileInfo.fingerprint(of: file, count: min(end, LogCursor.fingerprintBytes))
            segments.append(LogSegment(
                source: path, file: file, start: start, count: end - start, streamOffset: cursor.streamBase + start,
                mtime: info.mtime, cursorAfter: after, scratch: scratch))
        }
        return segments
    }

    /// The end of the last complete line in `[start, end)`; `start` when none is complete.
    /// A "line" longer than `longest` is cut where it stands (a log without newlines still travels).
    static func lineEnd(of file: URL, from start: UInt64, to end: UInt64, longest: UInt64 = 1 << 20) throws -> UInt64 {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var position = end
        while position > start {
            let piece = min(UInt64(64 << 10), position - start)
            try handle.seek(toOffset: position - piece)
            let data = try handle.read(upToCount: Int(piece)) ?? Data()
            if let newline = data.lastIndex(of: 0x0A) {
                return position - piece + UInt64(data.distance(from: data.startIndex, to: newline)) + 1
            }
            position -= piece
            if end - position >= longest { return end }
        }
        return start
    }

    /// Rotated siblings of the log (`NAME.1`, `NAME.2.gz`, `NAME-20261126[.gz]`), oldest first.
    func siblings() throws -> [LogRotation] {
        let directory = (resolved as NSString).deletingLastPathComponent
        let name = (resolved as NSString).lastPathComponent
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var found: [LogRotation] = []
        for entry in entries where entry != name && (entry.hasPrefix(name + ".") || entry.hasPrefix(name + "-")) {
            let full = directory + "/" + entry
            guard let info = try? LogFileInfo(path: full), info.isRegular else { continue }
            found.append(LogRotation(path: full, info: info))
        }
        return found.sorted { ($0.info.mtime, $1.path) < ($1.info.mtime, $0.path) }
    }
}
