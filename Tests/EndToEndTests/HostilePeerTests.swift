import Crypto
import Foundation
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// What an enrolled but hostile agent can send must not take the server down.
@Suite struct HostilePeerTests {
    /// Authenticates `identity` on a raw channel and walks to the collection step.
    func walkToCollection(_ channel: inout RawChannel, _ identity: DeviceIdentity) async throws -> WireCollectInstruction {
        try await channel.authenticate(identity)
        var inventory = WireInventory()
        inventory.full = true
        inventory.version = 1
        try await channel.send(.inventory(inventory))
        guard case .delivery? = try await channel.receive() else { throw TestFailure("expected 1030") }
        try await channel.send(.deliveryFinished(WireDeliveryFinished()))
        guard case .collectInstruction(let instruction)? = try await channel.receive() else { throw TestFailure("expected 1040") }
        return instruction
    }

    @Test func absurdUploadSizeIsRefusedAndTheServerLives() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        let identity = try agent.identity()
        let content = Data("known content".utf8)
        _ = try await server.adminJSON("PUT", "/v1/packages/known/1", body: content)  // a blob the server holds
        _ = try await server.adminJSON("POST", "/v1/collections", json: ["device": id, "paths": ["*.log"]])

        try await RawClient.session(server) { channel in
            let instruction = try await walkToCollection(&channel, identity)
            let order = try #require(instruction.orders.first)
            var header = WireFileHeader()
            header.orderID = order.orderID
            header.itemID = "x"
            header.path = "/var/log/huge.log"
            header.size = UInt64.max
            header.sha256 = Data(SHA256.hash(data: content))
            var data = WireCollectedData()
            data.file = header
            try await channel.send(.collectedData(data))
            let error = try await channel.expectServerError()
            #expect(error.reason == .invalid)
            #expect(error.message.contains("above the limit"))
        }
        // Still serving: the honest agent's next session works.
        _ = try await agent.run()
        try await server.stop()
    }

    @Test func secondInventoryInOneSessionIsRefused() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        let identity = try agent.identity()
        try await RawClient.session(server) { channel in
            try await channel.authenticate(identity)
            var position = WirePosition()
            position.lat = 1
            position.lon = 2
            try await channel.send(.inventory(WireInventory()))
            _ = try await channel.receive()
            try await channel.send(.position(position))
            try await channel.send(.inventory(WireInventory()))
            let error = try await channel.expectServerError()
            #expect(error.reason == .outOfSequence)
        }
        try await server.stop()
    }

    @Test(.timeLimit(.minutes(2))) func silentConnectionIsClosedAfterTheAuthenticationTimeout() async throws {
        // Long enough for an honest agent on a loaded debug build (a CI run with the load
        // harness beside it needed more than 6 s), short enough for a test.
        let server = try await TestServer.start(authenticationTimeout: .seconds(15))
        let started = ContinuousClock.now
        try await RawClient.session(server) { channel in
            _ = try await channel.hello()  // and then say nothing
            let error = try await channel.expectServerError()
            #expect(error.reason == .authDenied)
            #expect(try await channel.receive() == nil)
        }
        #expect(ContinuousClock.now - started < .seconds(45))
        // An honest agent still gets through.
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        try await server.stop()
    }
}

extension RawChannel {
    /// 10 → 1010 → 20 (signed by `identity`) → 1020 accepted; returns the 20's frame.
    @discardableResult
    mutating func authenticate(_ identity: DeviceIdentity) async throws -> [UInt8] {
        let address = try await hello()
        var auth = WireAuthenticate()
        auth.deviceID = identity.deviceID
        auth.protocolMin = 1
        auth.protocolMax = 1
        auth.signature = Data(try identity.sign(challenge: Array(address.challenge), serverID: address.serverID))
        let frame = try codec.encode(.authenticate(auth))
        try await sendFrame(frame)
        guard case .authResult(let result)? = try await receive(), result.accepted else { throw TestFailure("expected an accepting 1020") }
        return frame
    }
}
