/// The answer the session acts on, and which way it came, for the log and the session
/// report (a decision taken by the timeout is not the user's).
public struct ConsentDecision: Sendable, Equatable {
    /// Download now or later.
    public var answer: ConsentAnswer
    /// How it was reached: one of the `via…` constants.
    public var via: String

    /// Creates a decision.
    public init(answer: ConsentAnswer, via: String) {
        self.answer = answer
        self.via = via
    }

    /// The user clicked an action of the desktop notification.
    public static let viaDesktop = "desktop"
    /// The user ran `piggyback agent consent --accept|--defer`.
    public static let viaControlSocket = "control socket"
    /// The user answered the prompt of an interactive one-shot run.
    public static let viaTerminal = "terminal"
    /// Nobody answered in time: the configured default.
    public static let viaTimeout = "timeout (default)"
    /// There was no way to ask (no desktop, no control socket, no terminal), or every way
    /// ended without an answer (the notification was dismissed): the configured default.
    public static let viaNoAnswer = "no answer (default)"
    /// The session was cancelled while asking: the configured default.
    public static let viaCancelled = "cancelled (default)"
}
