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
}
