/// What one session did, for the CLI, `status` and tests.
public struct SessionReport: Sendable {
    /// The server endpoint used.
    public var server: String = ""
    /// Why that server: `list #1`, `nearest: 12.3 km`, `broadcast: first answer from …`.
    public var serverReason: String = ""
    /// The server's id from 1010.
    public var serverID: String = ""
    /// Whether this session enrolled the terminal.
    public var enrolled = false
    /// What the 30 carried: full, delta or unchanged, and versions.
    public var inventory = ""
    /// Packages offered in the first 1030 (name@version).
    public var offered: [String] = []
    /// Packages received and verified this session.
    public var delivered: [String] = []
    /// Installation results after the session (`name@version: state`).
    public var installed: [String] = []
    /// Packages refused or postponed this session.
    public var deferred: [String] = []
    /// Packages that failed (name@version: reason).
    public var failed: [String] = []
    /// Files uploaded (or already held by the server) this session.
    public var collected: [String] = []
    /// Files a since-last order skipped: unchanged since the server stored them.
    public var unchanged: [String] = []
    /// Paths that could not be collected, with the reason.
    public var problems: [String] = []
    /// Telex frame bytes sent and received.
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Chunk bytes actually transferred (downloads, uploads).
    public var downloadedBytes = 0
    /// Seconds from the first 70 to the last chunk of this session's downloads, verified
    /// and on disk (`downloadSyncSeconds` included).
    public var downloadSeconds = 0.0
    /// Of `downloadSeconds`, the time the final fsync of finished downloads took: what
    /// durability costs beyond receiving, writing and hashing (bounded by the disk).
    public var downloadSyncSeconds = 0.0
    public var uploadedBytes = 0
    /// Seconds from each upload's header to its stored answer, summed (hashing excluded).
    public var uploadSeconds = 0.0
}
