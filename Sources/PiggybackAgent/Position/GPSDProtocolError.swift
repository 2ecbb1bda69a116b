/// What went wrong talking to gpsd; each case ends the connection or the line, never the agent.
enum GPSDProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A line longer than the configured bound: not gpsd, or a broken stream. Reconnect.
    case lineTooLong(limit: Int)
    /// A line that is not a JSON report. Skipped.
    case malformed(String)

    var description: String {
        switch self {
        case .lineTooLong(let limit):
            return "gpsd sent a line longer than \(limit) bytes; is something other than gpsd listening on that port?"
        case .malformed(let message):
            return message
        }
    }
}
