import Foundation
import Logging
@testable import PiggybackAgent
import Testing

/// Parsing and evaluation of netlink and /proc data, on bytes built here (no root needed).
@Suite struct MonitorTests {
    // MARK: netlink framing

    @Test func parsesConsecutiveMessagesAndStopsAtAMalformedOne() {
        var datagram = NetlinkMessage.request(type: Netlink.newLink, flags: 0, sequence: 7, body: [1, 2, 3, 4])
        datagram += NetlinkMessage.request(type: Netlink.done, flags: Netlink.multi, sequence: 7, body: [0, 0, 0, 0])
        let messages = NetlinkMessage.parse(datagram[...])
        #expect(messages.map(\.type) == [Netlink.newLink, Netlink.done])
        #expect(Array(messages[0].payload) == [1, 2, 3, 4])
        #expect(messages[1].sequence == 7)

        // A length past the end, a length shorter than the header, a truncated header.
        var overlong = datagram
        overlong.replaceSubrange(20..<24, with: withUnsafeBytes(of: UInt32(4096)) { Array($0) })
        #expect(NetlinkMessage.parse(overlong[...]).count == 1)
        var short = datagram
        short.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(3)) { Array($0) })
        #expect(NetlinkMessage.parse(short[...]).isEmpty)
        #expect(NetlinkMessage.parse(datagram[..<10]).isEmpty)
        #expect(NetlinkMessage.parse([][...]).isEmpty)
    }

    @Test func attributesStopAtABadLengthAndKeepWhatCameBefore() {
        var bytes = NetlinkBytes.attribute(3, Array("eth0\0".utf8))
        bytes += NetlinkBytes.attribute(6, withUnsafeBytes(of: UInt32(100)) { Array($0) })
        bytes += [0xFF, 0x00, 0x07, 0x00, 1, 2]  // claims 255 bytes
        let attributes = NetlinkAttributes(bytes[...])
        #expect(attributes.string(3) == "eth0")
        #expect(attributes.u32(6) == 100)
        #expect(attributes[7] == nil)
        #expect(NetlinkAttributes([2, 0, 1, 0][...]).values.isEmpty)  // length 2 < 4
    }

    @Test func randomBytesNeverCrashTheParsers() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0..<200, using: &generator)
            var bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count >= 16 {  // plausible header so the payload parsers run too
                bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(bytes.count)) { Array($0) })
                bytes[4] = [16, 20, 24].randomElement(using: &generator)!
                bytes[5] = 0
            }
            var snapshot = NetworkSnapshot()
            for message in NetlinkMessage.parse(bytes[...]) { snapshot.add(message) }
            _ = snapshot.connectivity
            _ = NetworkSnapshot.nextHops(bytes[...])
            _ = TCPConnection.parseTable(bytes[...])
        }
    }

    // MARK: connectivity

    @Test func defaultRouteThroughAnUpInterfaceWithAnAddressIsOnline() {
        let snapshot = NetlinkBytes.snapshot(
            links: [(1, "lo", 0x49), (2, "eth0", 0x11043)],
            addresses: [(2, 2, 0)],
            routes: [.init(family: 2, interface: 2)]
        )
        #expect(snapshot.connectivity == .online(interface: "eth0"))
    }

    @Test func unusableDefaultRoutesAreOffline() {
        let links: [(Int32, String, UInt32)] = [(1, "lo", 0x49), (2, "eth0", 0x11043), (3, "eth1", 0x1003)]
        let cases: [(String, [(Int32, UInt8, UInt8)], [NetlinkBytes.RouteSpec])] = [
            ("no route", [(2, 2, 0)], []),
            ("via loopback", [(1, 2, 0)], [.init(family: 2, interface: 1)]),
            ("interface up but not running", [(3, 2, 0)], [.init(family: 2, interface: 3)]),
            ("no address of the family", [(2, 10, 0)], [.init(family: 2, interface: 2)]),
            ("only a link-scope address", [(2, 10, 253)], [.init(family: 10, interface: 2)]),
            ("not the main table", [(2, 2, 0)], [.init(family: 2, interface: 2, table: 100)]),
            ("unreachable route", [(2, 2, 0)], [.init(family: 2, interface: 2, type: 7)]),
            ("not a default route", [(2, 2, 0)], [.init(family: 2, interface: 2, destinationLength: 8)]),
            ("linkdown next hop", [(2, 2, 0)], [.init(family: 2, interface: 2, flags: 0x10)]),
            ("unknown interface", [(2, 2, 0)], [.init(family: 2, interface: 9)]),
        ]
        for (name, addresses, routes) in cases {
            let snapshot = NetlinkBytes.snapshot(links: links, addresses: addresses, routes: routes)
            #expect(snapshot.connectivity == .offline, "\(name)")
        }
    }

    @Test func lowestMetricWinsAndMultipathHopsCount() {
        let links: [(Int32, String, UInt32)] = [(2, "wlan0", 0x11043), (3, "wwan0", 0x11043)]
        let addresses: [(Int32, UInt8, UInt8)] = [(2, 2, 0), (3, 2, 0), (3, 10, 0)]
        let both = NetlinkBytes.snapshot(links: links, addresses: addresses, routes: [
            .init(family: 2, interface: 2, priority: 600),
            .init(family: 2, interface: 3, priority: 100),
        ])
        #expect(both.connectivity == .online(interface: "wwan0"))
        let multipath = NetlinkBytes.snapshot(links: links, addresses: addresses, routes: [
            .init(family: 2, interface: nil, multipath: [(2, 0x1), (3, 0)]),
        ])
        #expect(multipath.connectivity == .online(interface: "wwan0"))
        let ipv6 = NetlinkBytes.snapshot(links: links, addresses: addresses, routes: [.init(family: 10, interface: 3)])
        #expect(ipv6.connectivity == .online(interface: "wwan0"))
    }

    // MARK: /proc/net/tcp

    @Test func parsesProcNetTCPAndTCP6() throws {
        let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1215 1 0000000000000000 100 0 0 10 0
           1: 0101E70A:C350 0201E70A:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 98765 1 0000000000000000 20 4 30 10 -1
           2: garbage line
           3: 0101E70A:C351 0201E70A:0050 02 00000000:00000000 01:00000064 00000000     0        0 98766 2 0000000000000000 100 0 0 10 -1

        """
        let connections = TCPConnection.parseTable(Array(tcp.utf8)[...])
        #expect(connections.map(\.inode) == [1215, 98765, 98766])
        #expect(connections[0].remote == "0.0.0.0:0" && connections[0].isLoopbackRemote && !connections[0].isActive)
        #expect(connections[1].remote == "10.231.1.2:8080" && connections[1].uid == 1000 && connections[1].isActive)
        #expect(connections[2].state == TCPConnection.synSent && !connections[2].isLoopbackRemote)

        let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
           1: 00000000000000000000000001000000:A000 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1
           2: 0000000000000000FFFF00000101E70A:A001 0000000000000000FFFF00000201E70A:0050 01 00000000:00000000 00:00000000 00000000     0        0 3 1
           3: 000000FD000000000000000001000000:A002 000000FD000000000000000002000000:01BB 01 00000000:00000000 00:00000000 00000000     0        0 4 1
           4: 000000FD000000000000000001000000:A002 000000FD00000000000000000200000:01BB 01 00000000:00000000 00:00000000 00000000     0        0 5 1
        """
        let six = TCPConnection.parseTable(Array(tcp6.utf8)[...])
        #expect(six.map(\.inode) == [1, 2, 3, 4])  // 5 has a 31-digit address
        let byInode = Dictionary(uniqueKeysWithValues: six.map { ($0.inode, $0) })
        #expect(byInode[2]?.isLoopbackRemote == true)
        #expect(byInode[3]?.remote == "10.231.1.2:80")
        #expect(byInode[3]?.isLoopbackRemote == false)
        #expect(byInode[4]?.remote == "[fd00::2]:443")
    }

    // MARK: live, in this process's own namespace (no root needed)

    @Test func watcherReportsAFirstVerdictAndStops() async throws {
        let watcher = try await ConnectivityWatcher.start(namespace: nil, logger: Logger(label: "monitor-test"))
        var iterator = watcher.updates.makeAsyncIterator()
        #expect(await iterator.next() != nil)
        watcher.stop()
        #expect(await iterator.next() == nil, "updates end once the watcher stops")
    }

    @Test func readsOurOwnTCPTableAndFindsOurSockets() async throws {
        let table = try await TCPConnectionTable.open(namespace: nil)
        _ = try table.read()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var status = stat()
        fstat(fd, &status)
        #expect(TCPConnectionTable.ownSocketInodes().contains(UInt64(status.st_ino)))
    }

    @Test func sumsTCPOpensFromSNMP() {
        let snmp = """
        Ip: Forwarding DefaultTTL InReceives
        Ip: 1 64 1000
        Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab
        Tcp: 1 200 120000 -1 30 12 0 0 3
        Udp: InDatagrams NoPorts
        Udp: 5 0
        """
        #expect(InterfaceCounters.tcpOpens(Array(snmp.utf8)[...]) == 42)
        #expect(InterfaceCounters.tcpOpens(Array("garbage".utf8)[...]) == nil)
        #expect(InterfaceCounters.tcpOpens(Array("Tcp: ActiveOpens PassiveOpens\nTcp: 1".utf8)[...]) == nil)
    }

    @Test func stateStartsUnready() {
        let state = MonitorState()
        #expect(!state.ready && !state.online && state.foreignTrafficPolls == 0 && state.lastEvent == nil)
        #expect(MonitorEvent.online(interface: "eth0").description == "online via eth0")
    }
}
