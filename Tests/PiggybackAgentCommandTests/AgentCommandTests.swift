import Foundation
import ArgumentParser
import PiggybackAgent
@testable import PiggybackAgentCommand
import Testing

@Suite struct AgentCommandTests {
    @Test func positionParsing() throws {
        let position = try AgentCommand.parsePosition("35.68,139.76,50")
        #expect(position.lat == 35.68 && position.lon == 139.76 && position.accuracy == 50)
        #expect(try AgentCommand.parsePosition("1,2").accuracy == 0)
        for bad in ["", "1", "91,0", "0,181", "a,b", "1,2,-5", "1,2,3,4"] {
            #expect(throws: ValidationError.self, "\(bad)") { try AgentCommand.parsePosition(bad) }
        }
    }

    @Test func flagsAreValidated() throws {
        #expect(throws: (any Error).self) { try AgentCommand.parse(["--consent", "maybe"]) }
        #expect(throws: (any Error).self) { try AgentCommand.parse(["--position", "x"]) }
        let command = try AgentCommand.parse(["--data", "/tmp/x", "--once", "--consent", "defer", "--server", "a:1", "--server", "b:2"])
        let configuration = try command.makeConfiguration()
        #expect(configuration.consent == .defer)
        #expect(configuration.servers == ["a:1", "b:2"])
        #expect(configuration.collectRoots.map(\.path) == ["/tmp/x/outbox", "/var/log"])
    }

    @Test func exitCodesAreDistinct() {
        let codes: [PiggybackAgent.AgentError.Code] = [.notEnrolled, .untrustedServer, .unreachable, .refused, .storage, .timeout]
        #expect(Set(codes.map(SessionSummary.exitCode)).count == codes.count)
        #expect(codes.allSatisfy { SessionSummary.exitCode($0) != 0 })
    }

    @Test func inventorySubcommandParses() throws {
        let parsed = try AgentCommand.parseAsRoot(["inventory", "--json"])
        #expect(parsed is InventoryCommand)
    }

    /// The unit the binary installs is the one in dist/, with the paths filled in.
    @Test func serviceUnitMatchesDist() throws {
        let dist = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("dist/piggyback-agent.service")
        let text = try String(contentsOf: dist, encoding: .utf8)
        #expect(InstallServiceCommand.template.trimmingCharacters(in: .newlines) == text.trimmingCharacters(in: .newlines))
        let unit = InstallServiceCommand.unit(binary: "/usr/local/bin/piggyback-agent", data: "/var/lib/piggyback-agent")
        #expect(unit.contains("ExecStart=/usr/local/bin/piggyback-agent agent --data /var/lib/piggyback-agent"))
        #expect(!unit.contains("@"))
    }

    @Test func installServiceWritesTheUnit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-unit-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let parsed = try AgentCommand.parseAsRoot(["--data", "/srv/pb", "install-service", "--unit-directory", directory.path, "--no-enable"])
        var command = try #require(parsed as? InstallServiceCommand)
        try await command.run()
        let unit = try String(contentsOf: directory.appendingPathComponent("piggyback-agent.service"), encoding: .utf8)
        #expect(unit.contains("--data /srv/pb"))
        #expect(unit.contains("Restart=on-failure"))
    }

    /// `--data` belongs to `agent` and reaches its subcommands, before or after their name
    /// (a subcommand's own `--data` used to be swallowed by the parent: swift-argument-parser #169).
    @Test func subcommandsUseTheAgentDataDirectory() throws {
        for arguments in [["--data", "/srv/pb", "status"], ["status", "--data", "/srv/pb"]] {
            let status = try #require(try AgentCommand.parseAsRoot(arguments) as? StatusCommand)
            #expect(status.agent.dataPath == "/srv/pb")
        }
        let consent = try #require(try AgentCommand.parseAsRoot(["consent", "--data", "/srv/pb", "--accept"]) as? ConsentCommand)
        #expect(consent.agent.dataPath == "/srv/pb")
        let inventory = try #require(try AgentCommand.parseAsRoot(["--data", "/srv/pb", "inventory", "--changes"]) as? InventoryCommand)
        #expect(inventory.agent.dataPath == "/srv/pb")
        let service = try #require(try AgentCommand.parseAsRoot(["install-service"]) as? InstallServiceCommand)
        #expect(service.data == "/var/lib/piggyback-agent")
    }

    @Test func daemonOptions() throws {
        let options = try DaemonOptions.parse(["--triggers", "network-up,timer", "--interval", "30", "--min-interval", "1", "--jitter", "0"])
        let triggers = try options.makeTriggers()
        #expect(triggers.networkUp && !triggers.foreignTraffic && !triggers.manual)
        #expect(triggers.timer == .seconds(1800) && triggers.minimumInterval == .seconds(60))
        #expect(throws: (any Error).self) { try DaemonOptions.parse(["--triggers", "sunrise"]) }
    }
}
