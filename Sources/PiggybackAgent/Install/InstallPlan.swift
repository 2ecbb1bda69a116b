/// What the signed manifest says about installing one verified artifact.
///
/// The plan comes from the server, so every field is checked before use: a `files` target
/// must be absolute and under an allowed root, a `script` entry must stay inside the archive.
public struct InstallPlan: Sendable, Equatable {
    /// The package's name (logs, environment, ownership of a `files` target).
    public var name: String
    /// The package's version (names the versioned directory of a `files` install).
    public var version: String
    /// How to install it.
    public var kind: PackageKind
    /// `files`: the absolute directory on the terminal that the package's content becomes.
    /// Passed to scripts as `PIGGYBACK_TARGET` for the other kinds.
    public var target: String
    /// `script`: the entry inside the archive to run ("" = the artifact itself is the script,
    /// run with /bin/sh; for an archive "" means `install.sh`).
    public var script: String
    /// Optional shell command run after installing (files: after the switch, with the target as
    /// working directory; script and deb: after the install). A non-zero exit is a failure, and
    /// a `files` install is rolled back.
    public var check: String
    /// Limit for the script, the check and dpkg; the whole process group is killed at the limit.
    public var timeout: Duration
    /// The artifact's SHA-256 (hex), recorded with a files install so a reinstalled agent
    /// can tell the package is already in place.
    public var sha256 = ""

    /// Creates a plan; a target, script and check are optional, the timeout defaults to 10 minutes.
    public init(
        name: String,
        version: String,
        kind: PackageKind,
        target: String = "",
        script: String = "",
        check: String = "",
        timeout: Duration = .seconds(600)
    ) {
        self.name = name
        self.version = version
        self.kind = kind
        self.target = target
        self.script = script
        self.check = check
        self.timeout = timeout
    }
}
