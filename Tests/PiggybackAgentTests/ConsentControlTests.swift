import Foundation
@testable import PiggybackAgent
import Testing

/// The consent question over the real control socket: a prompter waits, a client shows and
/// answers the question the way `piggyback agent consent` does.
@Suite struct ConsentControlTests {
    /// Serves a control socket in a temporary directory while `body` runs.
    func withControlServer(consent: ConsentBroker?, _ body: (String) async throws -> Void) async throws {
        let scratch = try ConsentScratch()
        defer { scratch.remove() }
        let socket = scratch.url.appendingPathComponent("control.sock").path
        let server = ControlServer(path: socket, logger: ConsentFixtures.logger, consent: consent) { command in
            "handled \(command.rawValue)"
        }
        let serving = Task { try await server.run() }
        defer { serving.cancel() }
        for _ in 0..<250 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(for: .milliseconds(20)) }
        // Only the agent's user may connect; the process's umask is left alone.
        var info = stat()
        #expect(stat(socket, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(!FileManager.default.fileExists(atPath: socket + ".d"), "the staging directory is gone once the socket is in place")
        let umaskLine = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("Umask:") }
        #expect(umaskLine.map { !$0.hasSuffix("0077") } ?? true, "the control server left a private umask behind: \(umaskLine ?? "")")
        try await body(socket)
        serving.cancel()
        _ = try? await serving.value
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func requestLinesParse() {
        #expect(ControlServer.Request(line: "trigger") == .command(.trigger))
        #expect(ControlServer.Request(line: "status") == .command(.status))
        #expect(ControlServer.Request(line: "consent") == .consent(.show))
        #expect(ControlServer.Request(line: "consent accept") == .consent(.answer(.accept, id: nil)))
        #expect(ControlServer.Request(line: "consent  defer   3fa2c1d0") == .consent(.answer(.defer, id: "3fa2c1d0")))
        for bad in ["", "trigger now", "consent maybe", "consent accept a b", "consent accept a/b", "consents", "status status"] {
            #expect(ControlServer.Request(line: bad) == nil, "\(bad) parsed")
        }
        for request: ControlServer.Request in [.command(.trigger), .consent(.show), .consent(.answer(.defer, id: "ab12"))] {
            #expect(ControlServer.Request(line: request.line) == request)
        }
    }

    @Test func aWaitingPrompterIsAnsweredOverTheSocket() async throws {
        let broker = ConsentBroker()
        try await withControlServer(consent: broker) { socket in
            #expect(try await ControlClient.send(.status, path: socket) == "handled status")
            #expect(try await ControlClient.send(.trigger, path: socket) == "handled trigger")
            #expect(try ConsentStatus.decode(try await ControlClient.send(.consent(.show), path: socket)).pending == nil)
            #expect(try await ControlClient.send(.consent(.answer(.accept, id: nil)), path: socket).hasPrefix("error: no question"))

            let prompter = ConsentPrompter(configuration: ConsentFixtures.configuration(timeout: .seconds(20)), broker: broker, logger: ConsentFixtures.logger)
            let asking = Task { await prompter.ask(ConsentFixtures.items) }
            var shown: ConsentStatus.Pending?
            for _ in 0..<250 where shown == nil {
                shown = try ConsentStatus.decode(try await ControlClient.send(.consent(.show), path: socket)).pending
                if shown == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let question = try #require(shown)
            #expect(question.items == ConsentFixtures.items)
            #expect((15...20).contains(question.secondsLeft))
            #expect(question.defaultAnswer == .defer)

            #expect(try await ControlClient.send(.consent(.answer(.accept, id: "00000000")), path: socket).hasPrefix("error: question 00000000 is no longer open"))
            #expect(try await ControlClient.send(.consent(.answer(.accept, id: question.id)), path: socket) == "ok: accepted question \(question.id)")
            #expect(await asking.value == ConsentDecision(answer: .accept, via: ConsentDecision.viaControlSocket))
            #expect(try ConsentStatus.decode(try await ControlClient.send(.consent(.show), path: socket)).pending == nil)
            #expect(try await ControlClient.send(.consent(.answer(.defer, id: nil)), path: socket).hasPrefix("error: no question"))
        }
    }

    @Test func unknownRequestsAndADaemonWithoutBroker() async throws {
        try await withControlServer(consent: nil) { (socket: String) async throws in
            #expect(try await ControlClient.send(.consent(.show), path: socket).hasPrefix("error: this agent daemon asks no questions"))
            #expect(try await ControlClient.send(.status, path: socket) == "handled status")
        }
        await #expect(throws: AgentError.self) {
            _ = try await ControlClient.send(.consent(.show), path: "/nonexistent/pb/control.sock")
        }
    }
}
