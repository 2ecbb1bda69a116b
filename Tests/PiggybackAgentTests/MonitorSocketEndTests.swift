import Foundation
@testable import PiggybackAgent
import Testing

/// The parts of short-traffic detection that need no kernel: the destroy announcement's
/// parser, the BPF filter (run by the same rules the kernel uses), and the own-traffic registry.
struct MonitorSocketEndTests {
    /// A destroy announcement as the kernel sends it: nlmsghdr, inet_diag_msg, attributes.
    static func announcement(
        family: UInt8, localPort: UInt16, remote: [UInt8], remotePort: UInt16, protocol: UInt8, segmentsIn: UInt32? = nil
    ) -> [UInt8] {
        var body = [UInt8](repeating: 0, count: SocketEnd.diagMessageSize)
        body[0] = family
        body[1] = 7  // TCP_CLOSE
        body[4] = UInt8(localPort >> 8); body[5] = UInt8(localPort & 0xFF)
        body[6] = UInt8(remotePort >> 8); body[7] = UInt8(remotePort & 0xFF)
        body.replaceSubrange(24..<(24 + remote.count), with: remote)
        body += NetlinkBytes.attribute(SocketEnd.protocolAttribute, [`protocol`])
        if let segmentsIn {
            var info = [UInt8](repeating: 0, count: 232)
            info.replaceSubrange(SocketEnd.segmentsInOffset..<(SocketEnd.segmentsInOffset + 4), with: NetlinkBytes.native(segmentsIn))
            body += NetlinkBytes.attribute(SocketEnd.infoAttribute, info)
        }
        return NetlinkMessage.request(type: SocketEnd.sockDiagByFamily, flags: 0, sequence: 0, body: body)
    }

    static func parse(_ bytes: [UInt8]) -> SocketEnd? {
        NetlinkMessage.parse(bytes[...]).first.flatMap(SocketEnd.init)
    }

    static let v6Peer: [UInt8] = [0xFD, 0, 0, 1] + [UInt8](repeating: 0, count: 11) + [2]
    static func mapped(_ first: UInt8) -> [UInt8] { [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, first, 0, 0, 9] }

    @Test func parsesTCPAndUDPEndsForBothFamilies() throws {
        let tcp = try #require(Self.parse(Self.announcement(family: 2, localPort: 40000, remote: [10, 0, 0, 2], remotePort: 443, protocol: 6, segmentsIn: 5)))
        #expect(tcp.transport == .tcp && tcp.localPort == 40000 && tcp.segmentsIn == 5)
        #expect(tcp.remote.description == "10.0.0.2:443" && tcp.isConversation)

        let udp = try #require(Self.parse(Self.announcement(family: 10, localPort: 5353, remote: Self.v6Peer, remotePort: 53, protocol: 17)))
        #expect(udp.transport == .udp && udp.segmentsIn == nil)
        #expect(udp.remote.description == "[fd00:1::2]:53" && udp.isConversation)
    }

    @Test func unansweredLoopbackAndUnconnectedAreNotConversations() throws {
        let refused = try #require(Self.parse(Self.announcement(family: 2, localPort: 1, remote: [10, 0, 0, 2], remotePort: 80, protocol: 6, segmentsIn: 0)))
        #expect(!refused.isConversation, "a SYN nobody answered is not the network working")
        let loopback = try #require(Self.parse(Self.announcement(family: 2, localPort: 1, remote: [127, 0, 0, 1], remotePort: 80, protocol: 6, segmentsIn: 3)))
        #expect(!loopback.isConversation)
        let unconnected = try #require(Self.parse(Self.announcement(family: 2, localPort: 1, remote: [0, 0, 0, 0], remotePort: 0, protocol: 17)))
        #expect(!unconnected.isConversation)
    }

    @Test func rejectsOtherMessagesAndNeverReadsPastTheEnd() {
        #expect(Self.parse(Self.announcement(family: 1, localPort: 1, remote: [1, 2, 3, 4], remotePort: 80, protocol: 6)) == nil, "AF_UNIX")
        #expect(Self.parse(Self.announcement(family: 2, localPort: 1, remote: [1, 2, 3, 4], remotePort: 80, protocol: 132)) == nil, "SCTP")
        let whole = Self.announcement(family: 10, localPort: 1, remote: Self.v6Peer, remotePort: 80, protocol: 6, segmentsIn: 1)
        for length in stride(from: 0, through: whole.count, by: 3) {
            var cut = Array(whole.prefix(length))
            if cut.count >= 4 { cut.replaceSubrange(0..<4, with: NetlinkBytes.native(UInt32(cut.count))) }
            _ = Self.parse(cut)  // must not trap
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var noise = whole
            for _ in 0..<8 { noise[Int.random(in: 16..<noise.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            _ = Self.parse(noise)
        }
    }

    @Test func kernelFilterKeepsOnlyConnectedSocketsToOtherDevices() {
        func keeps(_ family: UInt8, _ remote: [UInt8], port: UInt16 = 443) -> Bool {
            SocketDestroyFilter.keeps(Self.announcement(family: family, localPort: 1, remote: remote, remotePort: port, protocol: 6))
        }
        #expect(keeps(2, [10, 0, 0, 2]))
        #expect(keeps(2, [192, 168, 1, 1]))
        #expect(!keeps(2, [10, 0, 0, 2], port: 0), "never connected")
        #expect(!keeps(2, [127, 0, 0, 1]))
        #expect(!keeps(2, [127, 1, 2, 3]))
        #expect(!keeps(2, [0, 0, 0, 0]))
        #expect(keeps(10, Self.v6Peer))
        #expect(!keeps(10, [UInt8](repeating: 0, count: 15) + [1]), "::1")
        #expect(!keeps(10, [UInt8](repeating: 0, count: 16)), "::")
        #expect(!keeps(10, Self.mapped(127)), "::ffff:127.0.0.9")
        #expect(keeps(10, Self.mapped(10)), "::ffff:10.0.0.9")
        #expect(!keeps(1, [10, 0, 0, 2]), "another family")
        #expect(!SocketDestroyFilter.keeps([1, 2, 3]), "a short message")
        // The filter and the parser agree on what is a conversation (for answered sockets).
        for remote in [[10, 0, 0, 2], [127, 0, 0, 1], [0, 0, 0, 0]] as [[UInt8]] {
            let bytes = Self.announcement(family: 2, localPort: 1, remote: remote, remotePort: 80, protocol: 6, segmentsIn: 1)
            #expect(SocketDestroyFilter.keeps(bytes) == Self.parse(bytes)?.isConversation)
        }
    }

    @Test func filterJumpsStayInsideTheProgram() {
        let program = SocketDestroyFilter.program
        #expect(program.count < 4096)
        for (index, instruction) in program.enumerated() where instruction.code == 0x15 {
            #expect(index + 1 + Int(instruction.jt) < program.count && index + 1 + Int(instruction.jf) < program.count)
        }
        #expect(program.last?.code == 0x06)
    }

    @Test func ownTrafficCoversActivityGraceAndRegisteredPorts() async throws {
        let own = OwnTraffic(grace: .milliseconds(100))
        let end = SocketEnd(transport: .tcp, localPort: 41000, remote: InternetEndpoint(address: [10, 0, 0, 2], port: 443), segmentsIn: 1)
        #expect(!own.isOwn(end))
        let inside = await own.withActivity { own.isOwn(end) }
        #expect(inside)
        let ended = ContinuousClock.now
        #expect(own.isOwn(end, now: ended), "within the grace after the activity")
        #expect(!own.isOwn(end, now: ended + .seconds(1)), "past the grace")
        own.register(.tcp, localPort: 41000)
        #expect(own.isOwn(end, now: ended + .seconds(1)))
        #expect(!own.isOwn(end, now: ended + .seconds(1)), "a registered port counts once")
        var udp = end
        udp.transport = .udp
        own.register(.tcp, localPort: 41000)
        #expect(!own.isOwn(udp, now: ended + .seconds(1)), "the transport is part of the key")
    }
}
