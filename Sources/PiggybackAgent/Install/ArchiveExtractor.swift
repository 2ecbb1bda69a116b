import Foundation
import ZIPFoundation

/// Recognises a package archive by its magic bytes and unpacks it, safely, into a staging
/// directory (see ``StagingWriter`` for what is refused).
struct ArchiveExtractor {
    /// What a file's first bytes say it is.
    enum Format: Equatable {
        case tar, gzip, zip
        /// A format recognised but not supported, e.g. "xz".
        case unsupported(String)
        /// Not an archive at all (a script, for instance).
        case other
    }

    let limits: StagingWriter.Limits

    /// The format of the file at `url`, from its magic bytes (never its name).
    static func format(of url: URL) throws -> Format {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw InstallFailure("cannot open the package \(url.path): \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 512)) ?? Data())
        func starts(_ magic: [UInt8]) -> Bool { head.starts(with: magic) }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts([0x50, 0x4b, 0x03, 0x04]) || starts([0x50, 0x4b, 0x05, 0x06]) { return .zip }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .unsupported("xz") }
        if starts([0x42, 0x5a, 0x68]) { return .unsupported("bzip2") }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .unsupported("zstd") }
        if head.count == 512, head[257..<262].elementsEqual("ustar".utf8) { return .tar }
        return .other
    }

    /// Unpacks the archive at `url` into `root` (an empty directory); throws on anything
    /// unsafe or malformed, leaving `root` for the caller to delete.
    func extract(_ url: URL, into root: String) throws -> StagingWriter.Summary {
        var writer = StagingWriter(root: root, limits: limits)
        switch try Self.format(of: url) {
        case .tar:
            var reader = TarReader(try FileChunkSource(url: url))
            try extractTar(&reader, into: &writer)
        case .gzip:
            var reader = TarReader(try GzipChunkSource(try FileChunkSource(url: url)))
            try extractTar(&reader, into: &writer)
        case .zip:
            try extractZip(url, into: &writer)
        case .unsupported(let name):
            throw InstallFailure("the package is a \(name)-compressed file, which is not supported; use tar, tar.gz or zip")
        case .other:
            throw InstallFailure("the package is not a tar, tar.gz or zip archive")
        }
        try writer.finish()
        return writer.summary
    }

    private func extractTar<Source>(_ reader: inout TarReader<Source>, into writer: inout StagingWriter) throws {
        while let entry = try reader.next() {
            try writer.add(entry) { write in try reader.readContent(write) }
        }
        try reader.drain()
    }

    /// Zip entries are read with ZIPFoundation but every path, type and size is checked here,
    /// and the content goes through ``StagingWriter`` (its own extraction is not used).
    private func extractZip(_ url: URL, into writer: inout StagingWriter) throws {
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw InstallFailure("the package is not a readable zip archive (\(error))")
        }
        var count = 0
        var declared: UInt64 = 0
        for entry in archive {
            count += 1
            declared &+= entry.uncompressedSize
            guard count <= limits.maxEntries else {
                throw InstallFailure("refused the package: more than \(limits.maxEntries) entries (an archive bomb?); nothing was installed")
            }
        }
        guard declared <= limits.maxBytes else {
            throw InstallFailure("refused the package: it unpacks to more than \(limits.maxBytes) bytes (an archive bomb?); nothing was installed")
        }
        for entry in archive {
            let permissions = (entry.fileAttributes[.posixPermissions] as? NSNumber)?.uint32Value
            switch entry.type {
            case .directory:
                try writer.add(ArchiveEntry(path: entry.path, kind: .directory, mode: permissions ?? 0o755)) { _ in }
            case .symlink:
                guard entry.compressedSize <= 4096 else { throw InstallFailure.refused(entry.path, "is a symlink with an oversized target") }
                var target = Data()
                _ = try zipRead(archive, entry) { target.append($0) }
                let link = ArchiveEntry(path: entry.path, kind: .symlink, linkTarget: String(decoding: target, as: UTF8.self))
                try writer.add(link) { _ in }
            case .file:
                let file = ArchiveEntry(path: entry.path, kind: .file, size: entry.uncompressedSize, mode: permissions ?? 0o644)
                try writer.add(file) { write in
                    let checksum = try zipRead(archive, entry) { data in
                        try data.withUnsafeBytes { try write($0) }
                    }
                    guard checksum == entry.checksum else {
                        throw InstallFailure("corrupt zip archive: entry '\(entry.path.prefix(200))' fails its CRC check")
                    }
                }
            }
        }
    }

    private func zipRead(_ archive: Archive, _ entry: Entry, _ consumer: (Data) throws -> Void) throws -> CRC32 {
        do {
            return try archive.extract(entry, consumer: consumer)
        } catch let failure as InstallFailure {
            throw failure
        } catch {
            throw InstallFailure("corrupt zip archive: cannot read entry '\(entry.path.prefix(200))' (\(error))")
        }
    }
}
