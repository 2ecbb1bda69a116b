import Foundation
@testable import PiggybackAgent
import Testing

/// The throttle's system calls against the real kernel: TCP_INFO on a loopback connection,
/// idle CPU and I/O priority on a thread of our own. Neither needs root.
@Suite struct ThrottleSystemTests {
    /// A connected pair of loopback TCP sockets (client, server side).
    static func loopbackPair() throws -> (client: Int32, server: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ThrottleError(.tcpInfo, "socket failed") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 1) == 0
                    && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else { throw ThrottleError(.tcpInfo, "cannot listen on loopback") }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, length) == 0 }
        }
        guard client >= 0, connected else { throw ThrottleError(.tcpInfo, "cannot connect on loopback") }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw ThrottleError(.tcpInfo, "accept failed") }
        return (client, server)
    }

    @Test func readsTCPInfoOfALoopbackConnection() throws {
        let (client, server) = try Self.loopbackPair()
        defer { close(client); close(server) }
        let count = 60_000  // fits the loopback buffers: written at once, then read
        let payload = [UInt8](repeating: 0x5A, count: count)
        var written = 0
        while written < count {
            let n = payload[written...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            #expect(n > 0)
            if n <= 0 { return }
            written += n
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var received = 0
        while received < count {
            let n = buffer.withUnsafeMutableBytes { read(server, $0.baseAddress, $0.count) }
            #expect(n > 0)
            if n <= 0 { return }
            received += n
        }
        let receiving = try TCPInfo(descriptor: server)
        #expect(receiving.bytesReceived == UInt64(count))
        let sending = try TCPInfo(descriptor: client)
        if let sent = sending.bytesSent { #expect(sent == UInt64(count)) }
        #expect(sending.rtt > .zero && sending.rtt < .seconds(1))
        #expect(sending.minimumRTT != nil)
        // The data was read, so every byte is acknowledged within a few loopback round trips
        // (the kernel counts the SYN as one acknowledged byte).
        var acknowledged = sending.bytesAcknowledged
        for _ in 0..<200 where acknowledged != UInt64(count + 1) {
            usleep(1000)
            acknowledged = try TCPInfo(descriptor: client).bytesAcknowledged
        }
        #expect(acknowledged == UInt64(count + 1))
        #expect(sending.payloadBytes != nil)
    }

    @Test func tcpInfoOfSomethingElseIsAClearError() throws {
        #expect(throws: ThrottleError.self) { try TCPInfo(descriptor: -1) }
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(udp) }
        do {
            _ = try TCPInfo(descriptor: udp)
            Issue.record("TCP_INFO of a UDP socket should fail")
        } catch {
            #expect(error.code == .tcpInfo)
            #expect(error.message.contains("TCP_INFO"))
        }
    }

    @Test func idlePriorityLowersOnlyTheCallingThread() async throws {
        let (cpu, io, failure) = await withCheckedContinuation { (continuation: CheckedContinuation<(Bool, Int32?, String?), Never>) in
            let thread = Thread {
                var failure: String?
                do { try IdlePriority.applyToCurrentThread() } catch { failure = "\(error)" }
                continuation.resume(returning: (IdlePriority.currentThreadIsIdleCPU, IdlePriority.currentThreadIOClass, failure))
            }
            thread.start()
        }
        #expect(failure == nil)
        #expect(cpu)
        #expect(io == 3)
        #expect(!IdlePriority.currentThreadIsIdleCPU)  // this thread is untouched
        #expect(IdlePriority.currentThreadIOClass != 3)
    }
}
