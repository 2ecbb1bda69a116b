import FluentKit
import Foundation

extension Collections {
    /// What `files get` returns for a path: byte ranges of blobs, in order.
    struct Content: Sendable {
        /// A range of one blob.
        struct Piece: Sendable, Equatable {
            var blob: URL
            var offset: UInt64
            var count: UInt64
        }

        var pieces: [Piece]
        /// Whether the path is a log or journal assembled from segments.
        var segmented: Bool
        /// Segments used, and holes in the stream (bytes never collected) skipped over.
        var segments: Int
        var gaps: Int
        var size: UInt64 { pieces.reduce(0) { $0 + $1.count } }
    }

    /// The content held for `path` of a device: for a log or journal (its newest index row
    /// is a segment), the segments in stream order, overlapping bytes taken once; for a
    /// plain file, the newest version. Nil when nothing is held for the path.
    func content(deviceID: String, path: String) async throws -> Content? {
        let rows = try await CollectedFileRecord.query(on: store.db)
            .filter(\.$deviceID == deviceID).filter(\.$path == path).sort(\.$collectedAt, .descending).all()
        guard let newest = rows.first else { return nil }
        guard newest.segment else {
            return Content(pieces: [.init(blob: blobs.url(sha256: newest.sha256), offset: 0, count: UInt64(max(0, newest.size)))], segmented: false, segments: 0, gaps: 0)
        }
        return Self.assemble(rows.filter(\.segment).map { ($0.streamOffset, $0.size, $0.collectedAt, blobs.url(sha256: $0.sha256)) })
    }

    /// Orders segments (stream offset, size, collected at, blob) into one stream: sorted by
    /// offset (an earlier collection first on ties), each byte taken from the first segment
    /// that covers it, holes counted.
    static func assemble(_ segments: [(offset: Int64, size: Int64, collectedAt: Date, blob: URL)]) -> Content {
        let sorted = segments.sorted { ($0.offset, $0.collectedAt) < ($1.offset, $1.collectedAt) }
        var content = Content(pieces: [], segmented: true, segments: 0, gaps: 0)
        var position: Int64?
        for segment in sorted where segment.size > 0 {
            let end = segment.offset + segment.size
            if let position, end <= position { continue }
            let start = max(segment.offset, position ?? segment.offset)
            if let position, segment.offset > position { content.gaps += 1 }
            content.pieces.append(.init(blob: segment.blob, offset: UInt64(start - segment.offset), count: UInt64(end - start)))
            content.segments += 1
            position = end
        }
        return content
    }
}
