import PiggybackProtocol
import Testing

@Suite struct FramingTests {
    @Test func fragmentsAssembleIntoOneFrame() throws {
        var assembler = FrameAssembler(maxFrameSize: 16)
        #expect(try assembler.append([0, 30, 1], isText: false, isContinuation: false, fin: false) == nil)
        #expect(try assembler.append([2, 3], isText: false, isContinuation: true, fin: true) == [0, 30, 1, 2, 3])
        #expect(try assembler.append([0, 40], isText: false, isContinuation: false, fin: true) == [0, 40])
    }

    @Test func oversizedIsRefusedWhileArriving() throws {
        var assembler = FrameAssembler(maxFrameSize: 8)
        _ = try assembler.append([0, 30, 1, 1, 1], isText: false, isContinuation: false, fin: false)
        let error = #expect(throws: TelexError.self) {
            try assembler.append([1, 1, 1, 1], isText: false, isContinuation: true, fin: true)
        }
        #expect(error?.reason == .oversized)
        #expect(error?.code == 30)
    }

    @Test func textAndStrayContinuationAreMalformed() {
        var assembler = FrameAssembler()
        #expect(throws: TelexError.self) { try assembler.append([0, 10], isText: true, isContinuation: false, fin: true) }
        #expect(throws: TelexError.self) { try assembler.append([0, 10], isText: false, isContinuation: true, fin: true) }
    }

    @Test func enrollmentTokenRoundTripsAndRejectsGarbage() throws {
        let token = EnrollmentToken(servers: ["wss://a:1/v1/session"], caFingerprint: String(repeating: "ab", count: 32), secret: "s")
        #expect(try EnrollmentToken(parsing: token.encoded) == token)
        #expect(throws: TelexError.self) { try EnrollmentToken(parsing: "nonsense") }
        #expect(throws: TelexError.self) { try EnrollmentToken(parsing: "pb1.!!!") }
        let cut = String(token.encoded.dropLast(10))
        #expect(throws: TelexError.self) { try EnrollmentToken(parsing: cut) }
    }

    @Test func transcriptBindsChallengeServerAndDevice() {
        let a = AuthenticationTranscript.bytes(challenge: [1], serverID: "s", deviceID: "d")
        #expect(a != AuthenticationTranscript.bytes(challenge: [2], serverID: "s", deviceID: "d"))
        #expect(a != AuthenticationTranscript.bytes(challenge: [1], serverID: "t", deviceID: "d"))
        #expect(a != AuthenticationTranscript.bytes(challenge: [1], serverID: "s", deviceID: "e"))
    }
}
