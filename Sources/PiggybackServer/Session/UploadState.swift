import Crypto
import Foundation
import PiggybackProtocol

/// The file a terminal is uploading right now (50 header, then chunks).
///
/// `@unchecked`: swift-crypto's `SHA256` is a plain value (no references, no shared state)
/// that does not declare `Sendable`; everything else here is `Sendable`.
struct UploadState: @unchecked Sendable {
    let orderID: UUID
    let header: WireFileHeader
    let sha256: String
    /// The partial, open for the whole upload.
    let file: PartialFile
    var received: UInt64
    /// The digest of the bytes received so far (a resumed partial is hashed once at the header).
    var hasher: SHA256
    var partial: URL { file.url }
}
