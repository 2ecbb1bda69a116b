import Foundation

/// The packages offered in one session and how far each has been sent.
///
/// Flow control is by acknowledgement count: the terminal answers every chunk with one 70,
/// so `inFlight` chunks are unacknowledged and at most `window` may be.
struct DownloadPlan: Sendable {
    struct Item: Sendable {
        let itemID: String
        let packageID: UUID
        let size: UInt64
        let blob: URL
        /// Next byte to send; nil until the terminal said where to start.
        var nextOffset: UInt64?
        var finished = false
    }

    var items: [String: Item] = [:]
    var order: [String] = []
    var accepted = false
    var inFlight = 0
    /// Limits the terminal's rate controller asked for in its latest 70 (nil: the server's).
    var chunkLimit: Int?
    var windowLimit: Int?

    mutating func add(_ item: Item) {
        items[item.itemID] = item
        order.append(item.itemID)
    }

    /// The next item with bytes left to send, in offer order.
    func nextToSend() -> String? {
        order.first { id in
            guard let item = items[id], !item.finished, let next = item.nextOffset else { return false }
            return next < item.size
        }
    }
}
