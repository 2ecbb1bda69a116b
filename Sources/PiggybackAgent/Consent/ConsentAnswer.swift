/// The user's answer to an offer: download now, or leave the items pending on the server
/// for a later connection (the session answers 80).
public enum ConsentAnswer: String, Sendable, Codable, CaseIterable {
    /// Download the offered items now.
    case accept
    /// Not now: the server keeps the items for the next connection.
    case `defer`
}
