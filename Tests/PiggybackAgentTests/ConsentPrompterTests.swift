import Foundation
@testable import PiggybackAgent
import Testing

/// The prompter's ways of asking, with scripts standing in for notify-send: what it is
/// called with, how its answer is read, and what happens when it cannot ask.
@Suite struct ConsentPrompterTests {
    let items = ConsentFixtures.items

    func prompter(_ configuration: ConsentConfiguration, broker: ConsentBroker? = nil) -> ConsentPrompter {
        ConsentPrompter(configuration: configuration, broker: broker, logger: ConsentFixtures.logger)
    }

    /// A notify-send that records its arguments (NUL-separated) and environment, then `then`.
    func recordingNotifySend(_ scratch: ConsentScratch, then: String) throws -> String {
        // The trap comes first, so a SIGINT that arrives early is recorded all the same.
        try scratch.script("notify-send", """
            trap 'kill $pid 2>/dev/null; echo interrupted > "$DIR/signal"; exit 130' INT
            printf '%s\\0' "$@" > "$DIR/args"
            printf '%s\\n' "$DISPLAY" "$DBUS_SESSION_BUS_ADDRESS" > "$DIR/env"
            \(then)
            """)
    }

    /// Never answers; records the SIGINT that withdraws a real notification.
    static let hangs = """
        sleep 30 & pid=$!
        wait $pid
        """

    @Test func nobodyAnswersTheDefaultIsTakenAtTheTimeout() async {
        let start = ContinuousClock.now
        let decision = await prompter(ConsentFixtures.configuration(timeout: .milliseconds(300), defaultAnswer: .accept), broker: ConsentBroker()).ask(items)
        #expect(decision == ConsentDecision(answer: .accept, via: ConsentDecision.viaTimeout))
        #expect(ContinuousClock.now - start >= .milliseconds(300))
        #expect(ContinuousClock.now - start < .seconds(30))  // generous: a loaded CI machine
    }

    @Test func withNoWayToAskTheDefaultIsTakenAtOnce() async {
        let start = ContinuousClock.now
        let decision = await prompter(ConsentFixtures.configuration(timeout: .seconds(30))).ask(items)
        #expect(decision == ConsentDecision(answer: .defer, via: ConsentDecision.viaNoAnswer))
        #expect(ContinuousClock.now - start < .seconds(30))  // generous: a loaded CI machine
    }

    @Test(arguments: ConsentAnswer.allCases)
    func theNotificationsActionIsTheAnswer(_ answer: ConsentAnswer) async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let notifySend = try recordingNotifySend(scratch, then: "echo \(answer.rawValue)")
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: notifySend, desktop: ConsentFixtures.desktop())
        let decision = await prompter(configuration, broker: ConsentBroker()).ask(items)
        #expect(decision == ConsentDecision(answer: answer, via: ConsentDecision.viaDesktop))

        let arguments = try #require(scratch.read("args")).split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(arguments.count == 8)
        #expect(Array(arguments.prefix(3)) == ["--app-name=Piggyback", "--urgency=normal", "--wait"])
        let expire = Int(arguments[3].dropFirst("--expire-time=".count)) ?? 0
        #expect(arguments[3].hasPrefix("--expire-time=") && (1...20_000).contains(expire))
        #expect(Array(arguments[4...5]) == ["--action=accept=Download", "--action=defer=Later"])
        #expect(arguments[6] == "Download 2 packages (121.2 MiB)?")
        #expect(arguments[7] == "curl 8.5.0, 1.2 MiB: software.curl &lt; 8.5\nmaps-nrw 2025.01, 120.0 MiB: position in region nrw\nLater keeps them for the next connection.")
        #expect(scratch.read("env") == ":42\nunix:path=/nonexistent/pb-test-bus\n")
    }

    @Test func aNotificationNobodyClicksIsWithdrawnAtTheTimeout() async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let notifySend = try recordingNotifySend(scratch, then: Self.hangs)
        // Long enough for the stand-in to have set its trap even in a fully loaded test run
        // (a SIGINT before that ends the shell without a word).
        let configuration = ConsentFixtures.configuration(timeout: .seconds(10), notifySend: notifySend, desktop: ConsentFixtures.desktop())
        let start = ContinuousClock.now
        let decision = await prompter(configuration).ask(items)
        #expect(decision == ConsentDecision(answer: .defer, via: ConsentDecision.viaTimeout))
        #expect(ContinuousClock.now - start < .seconds(40))  // generous: a loaded CI machine
        #expect(scratch.read("args") != nil, "the stand-in never started")
        #expect(try await scratch.waitFor("signal") == "interrupted\n")
    }

    @Test func theControlSocketAnswersWhileTheNotificationIsUp() async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let notifySend = try recordingNotifySend(scratch, then: Self.hangs)
        let broker = ConsentBroker()
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: notifySend, desktop: ConsentFixtures.desktop())
        let asking = Task { await prompter(configuration, broker: broker).ask(items) }
        let question = try await ConsentFixtures.pending(broker)
        #expect(try await scratch.waitFor("args") != nil)
        let start = ContinuousClock.now
        #expect(await broker.answer(.accept, id: question.id))
        #expect(await asking.value == ConsentDecision(answer: .accept, via: ConsentDecision.viaControlSocket))
        #expect(ContinuousClock.now - start < .seconds(30))  // generous: a loaded CI machine
        #expect(try await scratch.waitFor("signal") == "interrupted\n")
    }

    @Test(arguments: [
        "echo 'Failed to show notification: no server' >&2; exit 1",
        // notify-send 0.8.1 without a notification server says so, then waits forever.
        "echo 'Actions are not supported by this notifications server. Displaying non-interactively.' >&2\n" + ConsentPrompterTests.hangs,
        "exit 0",
    ])
    func whenTheNotificationCannotAskTheControlSocketStillCan(_ behaviour: String) async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let notifySend = try recordingNotifySend(scratch, then: behaviour)
        let broker = ConsentBroker()
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: notifySend, desktop: ConsentFixtures.desktop())
        let asking = Task { await prompter(configuration, broker: broker).ask(items) }
        let question = try await ConsentFixtures.pending(broker)
        #expect(await broker.answer(.defer, id: question.id))
        #expect(await asking.value == ConsentDecision(answer: .defer, via: ConsentDecision.viaControlSocket))

        // Without the control socket there is nobody left to ask: the default, long before the timeout.
        let start = ContinuousClock.now
        let alone = await prompter(ConsentFixtures.configuration(timeout: .seconds(20), defaultAnswer: .accept, notifySend: notifySend, desktop: ConsentFixtures.desktop())).ask(items)
        #expect(alone == ConsentDecision(answer: .accept, via: ConsentDecision.viaNoAnswer))
        #expect(ContinuousClock.now - start < .seconds(30))  // generous: a loaded CI machine
    }

    @Test func aMissingNotifySendFallsBack() async {
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: "/nonexistent/notify-send", desktop: ConsentFixtures.desktop())
        #expect(await prompter(configuration).ask(items) == ConsentDecision(answer: .defer, via: ConsentDecision.viaNoAnswer))
    }

    @Test func cancellingTheSessionStopsTheNotification() async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let notifySend = try recordingNotifySend(scratch, then: Self.hangs)
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: notifySend, desktop: ConsentFixtures.desktop())
        let asking = Task { await prompter(configuration, broker: ConsentBroker()).ask(items) }
        #expect(try await scratch.waitFor("args") != nil)
        asking.cancel()
        #expect(await asking.value == ConsentDecision(answer: .defer, via: ConsentDecision.viaCancelled))
        #expect(try await scratch.waitFor("signal") == "interrupted\n")
    }
}
