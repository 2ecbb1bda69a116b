import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` to `path` as an executable (mode 0755), through a close-on-exec descriptor.
///
/// Tests run in parallel and start children all the time; a descriptor open for writing
/// that one of those children inherits makes executing the file fail with ETXTBSY
/// ("text file busy") until the child exits — Foundation's atomic write does not open
/// with O_CLOEXEC.
public func writeExecutable(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var written = 0
    while written < bytes.count {
        let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        written += count
    }
    guard fchmod(fd, 0o755) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
}
