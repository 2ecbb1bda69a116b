import Foundation

/// How the agent reads the systemd journal for `--journal` collection orders.
public struct JournalConfiguration: Sendable {
    /// Whether the server may collect the journal at all (it is the system log, like /var/log).
    public var allowed: Bool
    /// The journalctl binary (a name is looked up in PATH).
    public var command: String
    /// A journal directory to read instead of the system's (`journalctl --directory`).
    public var directory: URL?
    /// How far back the first collection of a source reaches (`journalctl --since`).
    public var firstSince: String
    /// Upper bound on one journalctl run.
    public var timeout: Duration

    /// Defaults: allowed, the system journal, the last 24 hours at first.
    public init(allowed: Bool = true, command: String = "journalctl", directory: URL? = nil, firstSince: String = "-24h", timeout: Duration = .seconds(120)) {
        self.allowed = allowed
        self.command = command
        self.directory = directory
        self.firstSince = firstSince
        self.timeout = timeout
    }
}
