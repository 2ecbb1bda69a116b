import Foundation

/// Where and how the package installer works; one value per agent, defaults from the data directory.
public struct InstallerConfiguration: Sendable {
    /// DATA/install: staging directories, extraction for scripts, work files. Created on demand.
    public var stateDirectory: URL
    /// A `files` target must lie strictly under one of these (after resolving symlinks), so a
    /// manifest cannot replace `/etc` or `/usr/bin`. Default: DATA/files and /opt.
    public var allowedTargetRoots: [String]
    /// The dpkg command and its leading options (default `["dpkg"]`); tests add `--root=…` or
    /// `--admindir=…`/`--instdir=…` and `--log=/dev/null` so the machine's database is untouched.
    public var dpkg: [String]
    /// How many earlier versions of a `files` target are kept for rollback (default 1).
    public var keepVersions: Int
    /// How much captured output (the tail) is kept per process (default 8 KiB).
    public var maxOutputBytes: Int
    /// Refuse an archive whose extracted content exceeds this many bytes (default 4 GiB): a
    /// zip or tar bomb fails instead of filling the disk.
    public var maxExtractedBytes: UInt64
    /// Refuse an archive with more entries than this (default 100 000).
    public var maxEntries: Int
    /// Run scripts, checks and dpkg at idle CPU (nice 19) and idle I/O priority (`ionice -c 3`),
    /// so installing does not disturb the user's work (default true).
    public var idlePriority: Bool
    /// After SIGTERM at a timeout, how long before the process group gets SIGKILL (default 2 s).
    public var killGrace: Duration

    /// The defaults for an agent whose data directory is `dataDirectory`.
    public init(dataDirectory: URL) {
        stateDirectory = dataDirectory.appendingPathComponent("install")
        allowedTargetRoots = [dataDirectory.appendingPathComponent("files").path, "/opt"]
        dpkg = ["dpkg"]
        keepVersions = 1
        maxOutputBytes = 8 * 1024
        maxExtractedBytes = 4 << 30
        maxEntries = 100_000
        idlePriority = true
        killGrace = .seconds(2)
    }
}
