import PiggybackProtocol
import Testing

@Suite struct TelexSequenceTests {
    @Test func serverAcceptsFigureFourOrder() throws {
        var sequence = TelexSequence(role: .server)
        for code in [TelexCode.discover, .authenticate, .position, .inventory, .deliveryStatus, .deliveryStatus, .deliveryFinished, .collectedData, .collectedData, .end] {
            try sequence.receive(code)
        }
    }

    @Test func terminalAcceptsFigureFourOrder() throws {
        var sequence = TelexSequence(role: .terminal)
        for code in [TelexCode.serverAddress, .authResult, .positionRequest, .delivery, .delivery, .collectInstruction, .collectionStatus, .endAck] {
            try sequence.receive(code)
        }
    }

    @Test func collectedDataBeforeCollectInstructionIsRefused() throws {
        var sequence = TelexSequence(role: .server)
        try sequence.receive(.discover)
        try sequence.receive(.authenticate)
        try sequence.receive(.inventory)
        let error = #expect(throws: TelexError.self) { try sequence.receive(.collectedData) }
        #expect(error?.reason == .outOfSequence)
        #expect(error?.code == 50)
    }

    @Test func inventoryBeforeAuthenticationIsRefused() {
        var sequence = TelexSequence(role: .server)
        #expect(throws: TelexError.self) { try sequence.receive(.inventory) }
    }

    @Test func serverTelexSentToServerIsRefused() {
        var sequence = TelexSequence(role: .server)
        #expect(throws: TelexError.self) { try sequence.receive(.serverError) }
        #expect(throws: TelexError.self) { try sequence.receive(.delivery) }
    }

    @Test func errorTelexIsAllowedAnywhere() throws {
        var server = TelexSequence(role: .server)
        try server.receive(.discover)
        try server.receive(.terminalError)
        var terminal = TelexSequence(role: .terminal)
        try terminal.receive(.serverError)
    }

    @Test func versionNegotiation() {
        #expect(ProtocolVersion.negotiate(peer: 1...3, local: 1...2) == 2)
        #expect(ProtocolVersion.negotiate(peer: 2...2, local: 1...1) == nil)
        #expect(ProtocolVersion.range(min: 1, max: 0) == 1...1)
    }
}
