import Foundation

/// One upload of a collection: a byte range of a file, as the server will index it.
struct UploadItem: Sendable {
    var orderID: String
    /// The path on the terminal the server indexes (or `journal:UNIT`).
    var path: String
    /// Where the bytes are read from, and which of them.
    var file: URL
    var start: UInt64 = 0
    var count: UInt64
    var mtime: Date
    /// A segment of a growing source, starting at `streamOffset` of its stream.
    var segment = false
    var streamOffset: UInt64 = 0

    /// How an upload ended.
    enum Result: Sendable, Equatable {
        /// The server holds the bytes durably (digest given).
        case stored(sha256: String)
        /// Not stored this session, and why (the terminal keeps its data for later).
        case failed(String)
    }
}
