/// The result of installing one package, as reported to the server with the next inventory.
public struct InstallOutcome: Sendable, Equatable {
    /// Where the install ended.
    public enum State: String, Sendable, Codable {
        /// The package is in place (and its check, if any, passed).
        case installed
        /// Nothing changed on the terminal, or a script/dpkg failed part-way (see the detail).
        case failed
        /// A `files` install was switched in, then undone: the previous version is back.
        case rolledBack = "rolled_back"
    }

    /// Where the install ended.
    public var state: State
    /// What happened; on failure what went wrong, with the tail of the captured output.
    /// At most ``InstallOutcome/maxDetailBytes`` bytes of UTF-8.
    public var detail: String
    /// The exit code of the script, check or dpkg that decided the outcome, when one ran to its end.
    public var exitCode: Int32?

    /// Upper bound of ``detail`` in UTF-8 bytes, so a chatty script cannot bloat the report.
    public static let maxDetailBytes = 8 * 1024

    /// Creates an outcome; the detail is cut to ``maxDetailBytes`` (keeping its start).
    public init(state: State, detail: String, exitCode: Int32? = nil) {
        self.state = state
        self.detail = Self.bounded(detail)
        self.exitCode = exitCode
    }

    /// A summary followed by the tail of the output, within ``maxDetailBytes``: the summary is
    /// kept whole (up to half the budget) and the output loses its oldest bytes first.
    static func detail(_ summary: String, output: String) -> String {
        guard !output.isEmpty else { return bounded(summary) }
        let head = bounded(summary, limit: maxDetailBytes / 2)
        let separator = "\n--- output (tail) ---\n"
        let room = maxDetailBytes - head.utf8.count - separator.utf8.count
        var tail = Substring(output)
        while tail.utf8.count > room { tail = tail.dropFirst(max(1, (tail.utf8.count - room) / 4)) }
        return head + separator + tail
    }

    /// Cuts `text` to `limit` UTF-8 bytes on a character boundary.
    static func bounded(_ text: String, limit: Int = maxDetailBytes) -> String {
        guard text.utf8.count > limit else { return text }
        var cut = Substring(text)
        while cut.utf8.count > limit - 3 { cut = cut.dropLast(max(1, (cut.utf8.count - limit) / 4)) }
        return cut + "…"
    }
}
