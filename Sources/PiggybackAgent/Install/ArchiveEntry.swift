/// One entry of a package archive (tar or zip), as the extractor sees it before any check.
struct ArchiveEntry: Sendable, Equatable {
    /// What the entry creates.
    enum Kind: Sendable, Equatable {
        case file, directory, symlink, hardLink, characterDevice, blockDevice, fifo
    }

    /// The path as written in the archive (untrusted: may be absolute or contain `..`).
    var path: String
    var kind: Kind
    /// Symlink content or hard-link target (untrusted).
    var linkTarget: String = ""
    /// Content bytes that follow (regular files).
    var size: UInt64 = 0
    /// Permission bits from the archive.
    var mode: UInt32 = 0o644
}
