import Crypto
import Synchronization
import Foundation
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// 20/1020: possession of the device key, no replay, revocation, pinning.
@Suite struct AuthenticationTests {
    @Test func replayedAuthenticateIsRefused() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        let identity = try agent.identity()

        let recorded = Mutex<[UInt8]>([])
        try await RawClient.session(server) { channel in
            let frame = try await channel.authenticate(identity)
            recorded.withLock { $0 = frame }
        }
        try await RawClient.session(server) { channel in
            _ = try await channel.hello()
            try await channel.sendFrame(recorded.withLock { $0 })
            let error = try await channel.expectServerError()
            #expect(error.reason == .authDenied)
            #expect(try await channel.receive() == nil)  // and the connection is closed
        }
        try await server.stop()
    }

    @Test func unknownDeviceIsRefused() async throws {
        let server = try await TestServer.start()
        let rawKey = Curve25519.Signing.PrivateKey().rawRepresentation
        try await RawClient.session(server) { channel in
            let address = try await channel.hello()
            var auth = WireAuthenticate()
            auth.deviceID = UUID().uuidString.lowercased()
            auth.protocolMin = 1
            auth.protocolMax = 1
            let transcript = AuthenticationTranscript.bytes(challenge: Array(address.challenge), serverID: address.serverID, deviceID: auth.deviceID)
            auth.signature = try Curve25519.Signing.PrivateKey(rawRepresentation: rawKey).signature(for: transcript)
            try await channel.send(.authenticate(auth))
            let error = try await channel.expectServerError()
            #expect(error.reason == .authDenied)
            #expect(error.message.contains("not enrolled"))
        }
        try await server.stop()
    }

    @Test func revokedDeviceIsRefused() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        _ = try await server.adminJSON("POST", "/v1/devices/\(id)/revoke")
        let error = await #expect(throws: AgentError.self) { try await agent.run() }
        #expect(error?.code == .refused)
        #expect(error?.telex?.reason == .authDenied)
        _ = try await server.adminJSON("POST", "/v1/devices/\(id)/accept")
        _ = try await agent.run()
        try await server.stop()
    }

    @Test func tokenWithAnotherCAFingerprintIsRefusedByTheAgent() async throws {
        let server = try await TestServer.start()
        var token = try EnrollmentToken(parsing: try await server.enrollToken())
        token.caFingerprint = Hex.encode(SHA256.hash(data: Data("some other CA".utf8)))
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(token.encoded)
        let error = await #expect(throws: AgentError.self) { try await agent.run() }
        #expect(error?.code == .untrustedServer)
        #expect(agent.lines.all.allSatisfy { $0.hasPrefix("  ") })  // notes only: not a single telex went out
        let devices = try await server.adminJSON("GET", "/v1/devices") as? [Any]
        #expect(devices?.isEmpty == true)
        try await server.stop()
    }

    @Test func usedUpTokenIsRefused() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken(uses: 1)
        let first = TestAgent()
        let second = TestAgent()
        defer { first.remove(); second.remove() }
        _ = try first.enroll(token)
        _ = try await first.run()
        _ = try second.enroll(token)
        let error = await #expect(throws: AgentError.self) { try await second.run() }
        #expect(error?.telex?.reason == .authDenied)
        #expect(error?.message.contains("used up") == true)
        try await server.stop()
    }

    @Test func expiredTokenIsRefused() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken(expiresIn: 0.5)
        try await Task.sleep(for: .seconds(1))
        let agent = TestAgent()
        defer { agent.remove() }
        _ = try agent.enroll(token)
        let error = await #expect(throws: AgentError.self) { try await agent.run() }
        #expect(error?.message.contains("expired") == true)
        try await server.stop()
    }
}
