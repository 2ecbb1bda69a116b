import Foundation

/// An upload's partial file, open for the whole upload: chunks are written with pwrite(2)
/// at their offset, without opening, seeking and closing per chunk.
///
/// Closed when the last reference goes (the upload finished, was abandoned, or the session
/// ended); the file itself stays so that the next session resumes from it.
final class PartialFile: Sendable {
    let url: URL
    let fd: Int32

    /// Opens (creating when absent) the partial at `url` for writing.
    init(url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ServerError(.storage, "cannot open \(url.path) for the upload: \(String(cString: strerror(errno))); is the data directory writable and not full?")
        }
        self.url = url
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes` at `offset`. On failure (ENOSPC, EIO) the file is cut back to
    /// `offset`, so the partial holds exactly the bytes acknowledged before, and the error
    /// says whether the disk is full.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(fd, bytes.baseAddress.map { $0 + done }, bytes.count - done, off_t(offset) + off_t(done))
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                let code = written < 0 ? errno : ENOSPC
                _ = ftruncate(fd, off_t(offset))
                throw Self.failure(code, doing: "write the upload")
            }
            done += written
        }
    }

    /// Cuts the file to `size` bytes (drops a tail that was never acknowledged).
    func truncate(to size: UInt64) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw Self.failure(errno, doing: "truncate the partial upload") }
    }

    /// fsync(2): the bytes written so far are on disk.
    func sync() throws {
        guard fsync(fd) == 0 else { throw Self.failure(errno, doing: "sync the upload to disk") }
    }

    /// The error for a failed system call, saying plainly when the disk is full.
    static func failure(_ code: Int32, doing what: String) -> ServerError {
        if code == ENOSPC || code == EDQUOT {
            return ServerError(.storage, "the server's disk is full (cannot \(what)); the terminal keeps its file and sends it again in a later session")
        }
        return ServerError(.storage, "cannot \(what): \(String(cString: strerror(code))); the terminal keeps its file for a later session")
    }
}
