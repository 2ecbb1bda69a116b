import Foundation
import Logging

/// Asks with a desktop notification: `notify-send --wait` with two actions prints the key
/// of the one the user clicks (libnotify-bin ≥ 0.8) and nothing when the notification is
/// closed. Runs as the session's user when we are root (`setpriv`, which execs, so the
/// SIGINT that withdraws the notification reaches notify-send itself).
struct DesktopNotification: Sendable {
    let session: DesktopSession
    let notifySend: String
    let logger: Logger

    /// What notify-send writes to stderr when it cannot ask: without a notification server
    /// (or one without actions) it says so and then waits forever.
    static let failureMarks = [
        "not supported by this notifications server", "Failed to connect", "Could not connect",
        "Cannot autolaunch", "Failed to show notification", "Unknown option",
    ]

    /// The arguments after the program name.
    static func arguments(_ items: [ConsentItem], timeout: Duration) -> [String] {
        let milliseconds = max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return [
            "--app-name=Piggyback", "--urgency=normal", "--wait", "--expire-time=\(milliseconds)",
            "--action=accept=Download", "--action=defer=Later",
            ConsentText.escapeMarkup(ConsentText.title(items)), ConsentText.escapeMarkup(ConsentText.body(items)),
        ]
    }

    /// The key notify-send printed: `accept`, `defer`, or nil (closed, or something else).
    static func parse(_ output: String) -> ConsentAnswer? {
        let line = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty }
        return line.flatMap { ConsentAnswer(rawValue: $0) }
    }

    /// The user's click, or nil when notify-send cannot ask, the notification was closed,
    /// the deadline passed or the task was cancelled (notify-send is stopped then).
    func ask(_ items: [ConsentItem], until deadline: ContinuousClock.Instant) async -> ConsentAnswer? {
        let environment = ProcessInfo.processInfo.environment
        guard let program = ExecutableLookup.find(notifySend, environment: environment) else {
            logger.notice("no desktop notification: \(notifySend) not found (Debian: apt install libnotify-bin)")
            return nil
        }
        var child = BoundedProcess(
            executable: program, arguments: Self.arguments(items, timeout: ContinuousClock.now.duration(to: deadline)),
            environment: childEnvironment(environment), deadline: deadline
        )
        child.stopWhen = { stderr in Self.failureMarks.contains { stderr.contains($0) } }
        if session.needsUserSwitch, let uid = session.uid {
            guard let setpriv = ExecutableLookup.find("setpriv", environment: environment) else {
                logger.notice("no desktop notification: setpriv (util-linux) not found to run notify-send as uid \(uid)")
                return nil
            }
            let gid = session.gid ?? uid
            child.arguments = ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--", program.path] + child.arguments
            child.executable = setpriv
        }
        let outcome: BoundedProcess.Outcome
        do {
            outcome = try await child.run()
        } catch {
            logger.notice("no desktop notification: cannot run \(program.path): \(error)")
            return nil
        }
        let stderr = outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300)
        switch outcome.ending {
        case .exited(0):
            let answer = Self.parse(outcome.stdout)
            if answer == nil { logger.info("desktop notification closed without an answer") }
            return answer
        case .exited(let status):
            logger.notice("desktop notification failed (\(notifySend) exit status \(status)): \(stderr)")
        case .signalled(let signal):
            logger.notice("desktop notification failed (\(notifySend) killed by signal \(signal))")
        case .stopped:
            logger.notice("desktop notification cannot ask here: \(stderr)")
        case .timedOut, .cancelled:
            break
        }
        return nil
    }

    /// Ours with the session's variables; HOME, USER and LOGNAME of the session's user when
    /// notify-send runs as them.
    func childEnvironment(_ ours: [String: String]) -> [String: String] {
        var environment = ours.filter { !DesktopSession.variables.contains($0.key) }
        environment.merge(session.environment) { _, theirs in theirs }
        if session.needsUserSwitch, let uid = session.uid {
            environment["HOME"] = DesktopSession.account(uid: uid)?.home ?? "/"
            if let user = session.user {
                environment["USER"] = user
                environment["LOGNAME"] = user
            }
        }
        return environment
    }
}
