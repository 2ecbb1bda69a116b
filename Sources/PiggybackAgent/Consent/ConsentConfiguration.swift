#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the agent asks the user about an offer under consent policy `ask`: how long to
/// wait, what to do when nobody answers, and which ways of asking exist.
public struct ConsentConfiguration: Sendable {
    /// How long the question stays open; then ``defaultAnswer`` is taken.
    public var timeout: Duration
    /// The answer when nobody answers in time (or there is no way to ask).
    public var defaultAnswer: ConsentAnswer
    /// The notify-send program (name looked up in PATH, or a path).
    public var notifySend: String
    /// The graphical session to notify; nil with ``detectDesktop`` looks for one at each
    /// question (a user may log in after the daemon started).
    public var desktop: DesktopSession?
    /// Whether to look for a graphical session (``DesktopSession/detect(environment:loginctl:)``)
    /// when ``desktop`` is nil; false never notifies (tests, kiosks without a notification server).
    public var detectDesktop: Bool
    /// Whether to prompt on the terminal: a one-shot agent run by a user. Defaults to
    /// standard input and output both being terminals; the resident daemon should say false.
    public var interactiveTerminal: Bool

    /// Creates a configuration; the defaults wait two minutes and then defer.
    public init(
        timeout: Duration = .seconds(120),
        defaultAnswer: ConsentAnswer = .defer,
        notifySend: String = "notify-send",
        desktop: DesktopSession? = nil,
        detectDesktop: Bool = true,
        interactiveTerminal: Bool = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
    ) {
        self.timeout = timeout
        self.defaultAnswer = defaultAnswer
        self.notifySend = notifySend
        self.desktop = desktop
        self.detectDesktop = detectDesktop
        self.interactiveTerminal = interactiveTerminal
    }
}
