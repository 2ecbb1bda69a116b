import Foundation
@testable import PiggybackAgent
import Testing

/// The real notify-send (libnotify-bin 0.8) against a stand-in notification server on a
/// private D-Bus: it must print the clicked action's key, and our SIGINT must withdraw the
/// notification. Needs notify-send, dbus-daemon and python3 with dbus and gi (Debian:
/// libnotify-bin dbus-daemon python3-dbus python3-gi); skipped without them unless CI=true.
@Suite(.serialized) struct ConsentNotifySendTests {
    static let tools = ["/usr/bin/notify-send", "/usr/bin/dbus-daemon", "/usr/bin/python3"]
    static let available: Bool = {
        guard tools.allSatisfy({ access($0, X_OK) == 0 }) else { return false }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        check.arguments = ["-c", "import dbus, dbus.service, dbus.mainloop.glib; from gi.repository import GLib"]
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return false }
        check.waitUntilExit()
        return check.terminationStatus == 0
    }()
    static let enabled = available || ProcessInfo.processInfo.environment["CI"] == "true"

    /// org.freedesktop.Notifications with actions; answers each notification after 200 ms
    /// with the action in argv[2] ("none": never), and logs what it was asked in argv[1]/notified.
    static let server = #"""
        import sys, dbus, dbus.service, dbus.mainloop.glib
        from gi.repository import GLib
        dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
        DIR, ACTION = sys.argv[1], sys.argv[2]
        def log(line):
            with open(DIR + "/notified", "a") as f: f.write(line + "\n")
        class Server(dbus.service.Object):
            count = 0
            @dbus.service.method("org.freedesktop.Notifications", in_signature="", out_signature="as")
            def GetCapabilities(self): return ["actions", "body"]
            @dbus.service.method("org.freedesktop.Notifications", in_signature="", out_signature="ssss")
            def GetServerInformation(self): return ("stand-in", "piggyback", "1", "1.2")
            @dbus.service.method("org.freedesktop.Notifications", in_signature="susssasa{sv}i", out_signature="u")
            def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
                Server.count += 1
                n = Server.count
                log("notify|%s|%s|%s|%d" % (app, summary, ",".join(map(str, actions)), timeout))
                def answer():
                    if ACTION != "none":
                        self.ActionInvoked(n, ACTION)
                        self.NotificationClosed(n, 2)
                    return False
                GLib.timeout_add(200, answer)
                return n
            @dbus.service.method("org.freedesktop.Notifications", in_signature="u", out_signature="")
            def CloseNotification(self, n):
                log("closed|%d" % n)
                self.NotificationClosed(n, 3)
            @dbus.service.signal("org.freedesktop.Notifications", signature="us")
            def ActionInvoked(self, n, key): pass
            @dbus.service.signal("org.freedesktop.Notifications", signature="uu")
            def NotificationClosed(self, n, reason): pass
        bus = dbus.SessionBus()
        name = dbus.service.BusName("org.freedesktop.Notifications", bus)
        Server(bus, "/org/freedesktop/Notifications")
        open(DIR + "/ready", "w").close()
        GLib.MainLoop().run()
        """#

    /// A private session bus with the stand-in server on it, for the duration of `body`.
    func withNotificationServer(answering action: String, _ body: (ConsentScratch, String) async throws -> Void) async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let address = "unix:path=\(scratch.path)/bus"
        let bus = Process()
        bus.executableURL = URL(fileURLWithPath: "/usr/bin/dbus-daemon")
        bus.arguments = ["--session", "--nofork", "--address=\(address)"]
        try bus.run()
        // SIGKILL: children of the test runner's threads may have SIGTERM blocked.
        defer { kill(bus.processIdentifier, SIGKILL); bus.waitUntilExit() }
        for _ in 0..<250 where access("\(scratch.path)/bus", F_OK) != 0 { try await Task.sleep(for: .milliseconds(20)) }
        let script = scratch.url.appendingPathComponent("server.py")
        try Self.server.write(to: script, atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        server.arguments = [script.path, scratch.path, action]
        server.environment = ["DBUS_SESSION_BUS_ADDRESS": address, "PATH": "/usr/bin:/bin"]
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        guard try await scratch.waitFor("ready", seconds: 10) != nil else { throw ConsentTestError("the stand-in notification server did not start") }
        try await body(scratch, address)
    }

    func prompter(bus: String, timeout: Duration = .seconds(20), broker: ConsentBroker?) -> ConsentPrompter {
        let configuration = ConsentFixtures.configuration(timeout: timeout, notifySend: "/usr/bin/notify-send", desktop: ConsentFixtures.desktop(bus: bus))
        return ConsentPrompter(configuration: configuration, broker: broker, logger: ConsentFixtures.logger)
    }

    @Test(.enabled(if: enabled, "needs notify-send, dbus-daemon, python3-dbus, python3-gi"))
    func theClickedActionIsTheAnswer() async throws {
        try await withNotificationServer(answering: "accept") { scratch, bus in
            let decision = await prompter(bus: bus, broker: ConsentBroker()).ask(ConsentFixtures.items)
            #expect(decision == ConsentDecision(answer: .accept, via: ConsentDecision.viaDesktop))
            let notified = try #require(scratch.read("notified"))
            #expect(notified.hasPrefix("notify|Piggyback|Download 2 packages (121.2 MiB)?|accept,Download,defer,Later|"), "\(notified)")
        }
    }

    @Test(.enabled(if: enabled, "needs notify-send, dbus-daemon, python3-dbus, python3-gi"))
    func anAnswerElsewhereWithdrawsTheNotification() async throws {
        try await withNotificationServer(answering: "none") { scratch, bus in
            let broker = ConsentBroker()
            let asking = Task { await prompter(bus: bus, broker: broker).ask(ConsentFixtures.items) }
            let question = try await ConsentFixtures.pending(broker)
            #expect(try await scratch.waitFor("notified") != nil)
            #expect(await broker.answer(.defer, id: question.id))
            #expect(await asking.value == ConsentDecision(answer: .defer, via: ConsentDecision.viaControlSocket))
            for _ in 0..<100 where scratch.read("notified")?.contains("closed|1") != true { try await Task.sleep(for: .milliseconds(20)) }
            #expect(scratch.read("notified")?.contains("closed|1") == true)
        }
    }

    /// Without a notification server notify-send 0.8.1 says so and waits forever: we stop
    /// it at once and rely on the other ways.
    @Test(.enabled(if: enabled, "needs notify-send"))
    func withoutANotificationServerTheDefaultComesAtOnce() async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let start = ContinuousClock.now
        let decision = await prompter(bus: "unix:path=\(scratch.path)/no-bus", broker: nil).ask(ConsentFixtures.items)
        #expect(decision == ConsentDecision(answer: .defer, via: ConsentDecision.viaNoAnswer))
        #expect(ContinuousClock.now - start < .seconds(8))
    }
}
