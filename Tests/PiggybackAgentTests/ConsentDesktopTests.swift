import Foundation
@testable import PiggybackAgent
import Testing

/// Finding the desktop session, asking on a terminal, the words of the question, and the
/// notification as another user when the agent is root.
@Suite struct ConsentDesktopTests {
    static let rootEnabled = getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true"

    @Test func theAgentsOwnGraphicalSessionComesFromItsEnvironment() {
        let x11 = DesktopSession.fromEnvironment(["DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus", "HOME": "/home/a", "XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(x11 == DesktopSession(environment: ["DISPLAY": ":0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus", "XDG_RUNTIME_DIR": "/run/user/1000"]))
        #expect(DesktopSession.fromEnvironment(["WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/b"])?.environment["WAYLAND_DISPLAY"] == "wayland-0")
        #expect(DesktopSession.fromEnvironment(["DISPLAY": ":0"]) == nil)
        #expect(DesktopSession.fromEnvironment(["DBUS_SESSION_BUS_ADDRESS": "unix:path=/b", "DISPLAY": ""]) == nil)
    }

    @Test func loginctlSessionsAreReadAndFiltered() {
        #expect(DesktopSession.parseSessionList("      2 1000 alice seat0 tty2\n     c1  120 gdm   seat0 tty1\n\n") == ["2", "c1"])
        let properties = DesktopSession.parseProperties("Id=2\nName=alice\nUser=1000\nType=x11\nClass=user\nDisplay=:0\nRemote=no\nState=active\nActive=yes\n")
        #expect(properties["Display"] == ":0" && properties["User"] == "1000" && properties["Type"] == "x11")

        let buses: Set<String> = ["/run/user/1000/bus", "/run/user/1001/bus", "/run/user/1001/wayland-0"]
        let exists = { (path: String) in buses.contains(path) }
        let x11 = DesktopSession.session(from: properties, exists: exists, ourUID: 0)
        #expect(x11?.uid == 1000 && x11?.user == "alice")
        #expect(x11?.environment == ["DISPLAY": ":0", "XDG_RUNTIME_DIR": "/run/user/1000", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus"])
        let wayland = DesktopSession.session(from: ["User": "1001", "Name": "bob", "Type": "wayland", "Class": "user"], exists: exists, ourUID: 1001)
        #expect(wayland?.environment["WAYLAND_DISPLAY"] == "wayland-0" && wayland?.environment["DISPLAY"] == nil)

        var other = properties
        #expect(DesktopSession.session(from: other, exists: exists, ourUID: 1001) == nil, "another user's session without root")
        other["Type"] = "tty"
        #expect(DesktopSession.session(from: other, exists: exists, ourUID: 0) == nil)
        other = properties
        other["Remote"] = "yes"
        #expect(DesktopSession.session(from: other, exists: exists, ourUID: 0) == nil)
        other = properties
        other["Class"] = "greeter"
        #expect(DesktopSession.session(from: other, exists: exists, ourUID: 0) == nil)
        #expect(DesktopSession.session(from: properties, exists: { _ in false }, ourUID: 0) == nil, "no user bus")
    }

    @Test func theTerminalPromptReadsALine() async throws {
        func answer(_ typed: String?, defaultAnswer: ConsentAnswer = .defer, timeout: Duration = .seconds(5)) async throws -> (ConsentAnswer?, String) {
            var input: [Int32] = [0, 0]
            var output: [Int32] = [0, 0]
            guard pipe(&input) == 0, pipe(&output) == 0 else { throw ConsentTestError("pipe failed") }
            defer { [input[0], output[0], output[1]].forEach { close($0) } }
            if let typed { _ = Array(typed.utf8).withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) } }
            close(input[1])  // the user typed this and then end of input
            let prompt = TerminalPrompt(items: ConsentFixtures.items, defaultAnswer: defaultAnswer)
            let result = await prompt.ask(until: .now.advanced(by: timeout), input: input[0], output: output[1])
            var bytes = [UInt8](repeating: 0, count: 4096)
            let count = read(output[0], &bytes, bytes.count)
            return (result, String(decoding: bytes.prefix(max(0, count)), as: UTF8.self))
        }
        let (yes, shown) = try await answer("perhaps\ny\n")
        #expect(yes == .accept)
        #expect(shown.contains("Download 2 packages (121.2 MiB)?") && shown.contains("  curl 8.5.0, 1.2 MiB: software.curl < 8.5"))
        #expect(shown.contains("Please answer y (download now) or l (later)"))
        #expect(try await answer("later\n").0 == .defer)
        #expect(try await answer("\n", defaultAnswer: .accept).0 == .accept)
        #expect(try await answer("").0 == nil, "end of input")
        #expect(TerminalPrompt.parse(" Download ", defaultAnswer: .defer) == .accept)
        #expect(TerminalPrompt.parse("n", defaultAnswer: .accept) == .defer)
        #expect(TerminalPrompt.parse("maybe", defaultAnswer: .accept) == nil)
    }

    @Test func sizesAndTitles() {
        #expect(ConsentText.size(812) == "812 B")
        #expect(ConsentText.size(1536) == "1.5 KiB")
        #expect(ConsentText.size(120 << 20) == "120.0 MiB")
        #expect(ConsentText.size(3 << 30) == "3.0 GiB")
        #expect(ConsentText.title([ConsentFixtures.items[0]]) == "Download 1 package (1.2 MiB)?")
        let many = (1...7).map { ConsentItem(name: "p\($0)", version: "1", size: 10, reason: "") }
        #expect(ConsentText.body(many).split(separator: "\n").count == 7)
        #expect(ConsentText.body(many).contains("and 2 more"))
        #expect(DesktopNotification.parse("accept\n") == .accept)
        #expect(DesktopNotification.parse("\n defer \n") == .defer)
        #expect(DesktopNotification.parse("") == nil)
        #expect(DesktopNotification.parse("0\n") == nil)
    }

    /// A root daemon notifies the logged-in user's session as that user.
    @Test(.enabled(if: rootEnabled, "needs root to run notify-send as another user"))
    func asRootTheNotificationRunsAsTheSessionsUser() async throws {
        guard getuid() == 0 else { throw ConsentTestError("CI=true but not root: the user-switch test must run") }
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        chmod(scratch.path, 0o777)
        let notifySend = try scratch.script("notify-send", """
            id -u > "$DIR/uid"
            printf '%s\\n' "$HOME" "$DBUS_SESSION_BUS_ADDRESS" > "$DIR/env"
            echo accept
            """)
        let nobody = DesktopSession(user: "nobody", uid: 65534, gid: 65534, environment: ["DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/65534/bus"])
        let configuration = ConsentFixtures.configuration(timeout: .seconds(20), notifySend: notifySend, desktop: nobody)
        let decision = await ConsentPrompter(configuration: configuration, broker: nil, logger: ConsentFixtures.logger).ask(ConsentFixtures.items)
        #expect(decision == ConsentDecision(answer: .accept, via: ConsentDecision.viaDesktop))
        #expect(scratch.read("uid") == "65534\n")
        #expect(scratch.read("env")?.hasSuffix("\nunix:path=/run/user/65534/bus\n") == true)
    }
}
