/// What the communication monitor tells the daemon.
public enum NetworkSignal: Sendable, Equatable {
    /// A usable default route exists via `interface`.
    case online(interface: String)
    /// No usable default route.
    case offline
    /// Another application opened a connection to `remote` while online.
    case foreignTraffic(remote: String)
}
