import Foundation
import Logging
@testable import PiggybackAgent
import Testing

/// A fake procfs in a temporary directory, with the files the load sampler reads.
struct FakeProc {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-proc-\(UUID().uuidString)")
        for directory in ["self", "pressure", "net"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try write("net/route", """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
            eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
            """)
        try write("net/ipv6_route", """
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000003 00000000 00000003    wlan0
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
            00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200     eth1
            """)
    }

    func write(_ relative: String, _ text: String) throws {
        try text.write(to: root.appendingPathComponent(relative), atomically: false, encoding: .utf8)
    }

    /// One state of the machine: CPU ticks, our own ticks, PSI total, interface counters.
    func set(busy: UInt64, idle: UInt64, own: UInt64, stall: UInt64, eth0: UInt64, wlan0: UInt64) throws {
        // user nice system idle iowait irq softirq steal guest guest_nice
        try write("stat", "cpu  \(busy) 0 0 \(idle) 0 0 0 0 0 0\ncpu0 \(busy) 0 0 \(idle) 0 0 0 0 0 0\nintr 1 2 3\n")
        try write("self/stat", "4242 (piggy (agent) x) S 1 4242 4242 0 -1 4194560 500 0 0 0 \(own) 0 0 0 20 0 9 0 100 0 0\n")
        try write("pressure/cpu", "some avg10=12.50 avg60=3.00 avg300=1.00 total=\(stall)\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
        try write("net/dev", """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 999999 10 0 0 0 0 0 0 999999 10 0 0 0 0 0 0
              eth0: \(eth0) 100 0 0 0 0 0 0 0 50 0 0 0 0 0 0
             wlan0: \(wlan0) 100 0 0 0 0 0 0 0 50 0 0 0 0 0 0
              eth1: 777777777 1 0 0 0 0 0 0 0 1 0 0 0 0 0 0
            """)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }
}

@Suite struct ThrottleSamplerTests {
    @Test func readsCPUPressureAndForeignTrafficFromProc() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        var configuration = LoadSamplerConfiguration(procRoot: proc.root.path)
        configuration.ownOverhead = 0.1
        var sampler = LoadSampler<ManualClock.Instant>(configuration: configuration)
        let t0 = ManualClock.Instant(offset: .seconds(7))

        try proc.set(busy: 1000, idle: 1000, own: 100, stall: 5_000_000, eth0: 1_000_000, wlan0: 0)
        let first = sampler.sample(at: t0, ownBytes: 0, delay: .milliseconds(42))
        #expect(first.cpuBusy == nil)  // a baseline needs two readings
        #expect(first.cpuPressure == 0.125)  // avg10 until a total delta exists
        #expect(first.foreignBytesPerSecond == nil)
        #expect(first.delay == .milliseconds(42))
        // The IPv4 default route first, then IPv6's; reject routes and loopback never.
        #expect(sampler.interfaces == ["eth0", "wlan0"])

        // 100 ms later: 200 ticks passed, 150 busy, 30 of them ours; 20 ms of stall;
        // 600 000 bytes on the interfaces, 500 000 of them ours (550 000 with overhead).
        try proc.set(busy: 1150, idle: 1050, own: 130, stall: 5_020_000, eth0: 1_400_000, wlan0: 200_000)
        let second = sampler.sample(at: t0.advanced(by: .milliseconds(100)), ownBytes: 500_000, delay: nil)
        #expect(second.cpuBusy == 0.6)
        #expect(abs((second.cpuPressure ?? 0) - 0.2) < 1e-9)
        #expect(abs((second.foreignBytesPerSecond ?? 0) - 500_000) < 1e-3)
        #expect(abs((second.ownBytesPerSecond ?? 0) - 5_500_000) < 1e-3)
        #expect(second.delay == nil)

        // Counters that go back (an interface re-created) start over instead of a huge jump.
        try proc.set(busy: 1200, idle: 1100, own: 140, stall: 5_030_000, eth0: 10, wlan0: 0)
        let third = sampler.sample(at: t0.advanced(by: .milliseconds(200)), ownBytes: 600_000, delay: nil)
        #expect(third.foreignBytesPerSecond == nil)
    }

    @Test func namedInterfacesReplaceTheDefaultRoute() throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        var sampler = LoadSampler<ManualClock.Instant>(configuration: LoadSamplerConfiguration(procRoot: proc.root.path, interfaces: ["eth1"]))
        try proc.set(busy: 1, idle: 1, own: 0, stall: 0, eth0: 0, wlan0: 0)
        _ = sampler.sample(at: ManualClock.Instant(offset: .zero), ownBytes: 0, delay: nil)
        #expect(sampler.interfaces == ["eth1"])
    }

    @Test func missingFilesGiveNoSignalsRatherThanWrongOnes() {
        var sampler = LoadSampler<ManualClock.Instant>(configuration: LoadSamplerConfiguration(procRoot: "/nonexistent-proc"))
        for step in 0..<3 {
            let signals = sampler.sample(at: ManualClock.Instant(offset: .milliseconds(100 * step)), ownBytes: 0, delay: nil)
            #expect(signals == LoadSignals())
        }
    }

    @Test func parsesTheRealProcOfThisMachine() {
        var sampler = LoadSampler<ContinuousClock.Instant>()
        let start = ContinuousClock.now
        _ = sampler.sample(at: start, ownBytes: 0, delay: nil)
        // Burn a little CPU so the tick counters surely move.
        var x: UInt64 = 1
        for i in 0..<5_000_000 { x = x &* 6364136223846793005 &+ UInt64(i) }
        #expect(x != 0)
        let signals = sampler.sample(at: start.advanced(by: .milliseconds(100)), ownBytes: 0, delay: nil)
        if let busy = signals.cpuBusy { #expect(busy >= 0 && busy <= 1) }
        #expect(LoadSampler<ContinuousClock.Instant>.contents(of: "/proc/stat").flatMap(LoadCounters.machineTicks) != nil)
        #expect(LoadSampler<ContinuousClock.Instant>.contents(of: "/proc/self/stat").flatMap(LoadCounters.processTicks) != nil)
        #expect(LoadSampler<ContinuousClock.Instant>.contents(of: "/proc/net/dev").map(LoadCounters.interfaceBytes)?["lo"] != nil)
    }

    @Test func throttleTicksTurnForeignTrafficIntoAYield() async throws {
        let proc = try FakeProc()
        defer { proc.remove() }
        let clock = ManualClock()
        let throttle = TransferThrottle(
            configuration: ThrottleConfiguration(sampler: LoadSamplerConfiguration(procRoot: proc.root.path)),
            clock: clock, logger: Logger(label: "throttle-test"))
        var eth0: UInt64 = 0
        var own = 0
        for _ in 0..<20 {  // 2 s of our transfer alone, 200 KB/s
            try proc.set(busy: 10, idle: 10, own: 0, stall: 0, eth0: eth0, wlan0: 0)
            await throttle.moved(bytes: 20_000)
            await throttle.tick()
            clock.advance(by: .milliseconds(100))
            own += 20_000
            eth0 += 21_400
        }
        #expect(await throttle.decision.reason != .foreignTraffic)
        eth0 += 200_000  // the user's 2 MB/s download starts
        try proc.set(busy: 10, idle: 10, own: 0, stall: 0, eth0: eth0, wlan0: 0)
        await throttle.moved(bytes: 20_000)
        let decision = await throttle.tick()
        #expect(decision.reason == .foreignTraffic)
        #expect(decision.bytesPerSecond == RateControllerConfiguration().floorRate)
        #expect(await throttle.summary.contains("yielding to other traffic"))
        #expect(await throttle.summary.contains("foreign"))
        // during: sampling runs only inside, and the body's value comes back.
        let value = try await throttle.during { 42 }
        #expect(value == 42)
    }
}
