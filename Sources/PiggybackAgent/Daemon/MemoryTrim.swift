#if canImport(Glibc)
import Glibc
#endif

/// Hands memory freed after a burst of work (a session, an inventory reading) back to the
/// system, so the resident agent's footprint between sessions is what it needs to wait, not
/// the high-water mark of its last burst: glibc keeps freed heap otherwise.
public enum MemoryTrim {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    /// glibc's `malloc_trim` (in <malloc.h>, which the Glibc module does not export); nil elsewhere.
    private static let trim: Trim? = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: Trim.self) }
    #endif

    /// Returns free heap pages to the system (a no-op where malloc_trim does not exist).
    public static func release() {
        #if canImport(Glibc)
        _ = trim?(0)
        #endif
    }
}
