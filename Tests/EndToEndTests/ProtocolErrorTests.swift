import Foundation
import PiggybackProtocol
import Testing

/// Bad frames over a real socket get a typed 1090 and a closed connection, never a crash
/// or a hang.
@Suite struct ProtocolErrorTests {
    func expectRefusal(_ reason: WireErrorReason, code: UInt16? = nil, maxFrameSize: Int? = nil, mentioning words: [String] = [],
                       _ script: @escaping @Sendable (inout RawChannel) async throws -> Void) async throws {
        let server = try await TestServer.start(maxFrameSize: maxFrameSize)
        try await RawClient.session(server) { channel in
            try await script(&channel)
            let error = try await channel.expectServerError()
            #expect(error.reason == reason, "\(error)")
            if let code { #expect(error.code == code) }
            for word in words { #expect(error.message.contains(word), "\(error.message)") }
            #expect(try await channel.receive() == nil)
        }
        // The server is still fine afterwards.
        try await RawClient.session(server) { channel in _ = try await channel.hello() }
        try await server.stop()
    }

    @Test func outOfSequenceCollectedDataIsRefused() async throws {
        try await expectRefusal(.outOfSequence, code: 50) { channel in
            _ = try await channel.hello()
            try await channel.send(.collectedData(WireCollectedData()))
        }
    }

    @Test func inventoryBeforeDiscoverIsRefused() async throws {
        try await expectRefusal(.outOfSequence, code: 30) { channel in
            try await channel.send(.inventory(WireInventory()))
        }
    }

    @Test func unknownCodeIsRefused() async throws {
        try await expectRefusal(.unknownCode, code: 999) { channel in
            try await channel.sendFrame([0x03, 0xe7, 1, 2])
        }
    }

    @Test func malformedBodyIsRefused() async throws {
        try await expectRefusal(.malformed, code: 10) { channel in
            try await channel.sendFrame([0, 10, 0x0f, 0xff])
        }
    }

    @Test func truncatedFrameIsRefused() async throws {
        try await expectRefusal(.truncated) { channel in
            try await channel.sendFrame([0])
        }
    }

    @Test func oversizedFrameIsRefused() async throws {
        try await expectRefusal(.oversized, code: 10, maxFrameSize: 1024) { channel in
            try await channel.sendFrame([0, 10] + Array(repeating: 0, count: 2000))
        }
    }

    @Test func textMessageIsRefused() async throws {
        try await expectRefusal(.malformed) { channel in
            try await channel.sendText("hello")
        }
    }

    @Test func unsupportedVersionNamesBothVersions() async throws {
        try await expectRefusal(.unsupportedVersion, code: 20, mentioning: ["agent speaks protocol 7–9", "server speaks 1"]) { channel in
            _ = try await channel.hello()
            var auth = WireAuthenticate()
            auth.deviceID = UUID().uuidString
            auth.protocolMin = 7
            auth.protocolMax = 9
            try await channel.send(.authenticate(auth))
        }
    }
}
