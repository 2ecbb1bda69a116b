import Foundation
import PiggybackProtocol

/// The file a terminal is uploading right now (50 header, then chunks).
struct UploadState: Sendable {
    let orderID: UUID
    let header: WireFileHeader
    let sha256: String
    let partial: URL
    var received: UInt64
}
