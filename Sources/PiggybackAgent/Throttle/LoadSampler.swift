#if canImport(Glibc)
import Glibc
#endif

/// Turns kernel counters into `LoadSignals`, one sample per call.
///
/// It keeps only the previous readings (and those of the last `foreignWindow`), so it does
/// nothing between calls: the caller samples every `interval` while a transfer runs and drops
/// the sampler afterwards. The first call only establishes the baseline for the CPU figures.
public struct LoadSampler<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Paths, interfaces and windows.
    public let configuration: LoadSamplerConfiguration
    /// The interfaces counted in the last sample (resolved from the default routes when the
    /// configuration names none).
    public private(set) var interfaces: [String] = []

    private var previousTicks: (busy: UInt64, total: UInt64, own: UInt64)?
    private var previousPressure: (at: Instant, total: UInt64)?
    private var previousOpens: UInt64?
    /// (time, interface bytes, our bytes) readings, oldest first, covering `foreignWindow`.
    private var traffic: [(at: Instant, interfaces: UInt64, own: UInt64)] = []

    /// A sampler with no readings yet.
    public init(configuration: LoadSamplerConfiguration = LoadSamplerConfiguration()) {
        self.configuration = configuration
    }

    /// Reads the counters now. `ownBytes` is the running total of bytes this transfer has
    /// moved (sent + received, as counted by the caller or by TCP_INFO); `delay` is the
    /// smallest round trip measured since the previous sample, passed through.
    public mutating func sample(at now: Instant, ownBytes: UInt64, delay: Duration?) -> LoadSignals {
        var signals = LoadSignals(delay: delay)
        signals.cpuBusy = sampleCPU()
        signals.cpuPressure = samplePressure(at: now)
        if let (foreign, own) = sampleTraffic(at: now, ownBytes: ownBytes) {
            signals.foreignBytesPerSecond = foreign
            signals.ownBytesPerSecond = own
        }
        signals.newConnections = sampleConnections()
        return signals
    }

    /// TCP connections opened since the previous call; nil on the first or when unreadable.
    private mutating func sampleConnections() -> Int? {
        guard let text = read("net/snmp"), let opens = InterfaceCounters.tcpOpens(Array(text.utf8)[...]) else { return nil }
        defer { previousOpens = opens }
        guard let previous = previousOpens, opens >= previous else { return nil }
        return Int(opens - previous)
    }

    /// Other processes' share of all CPU time since the previous call.
    private mutating func sampleCPU() -> Double? {
        guard let machine = read("stat").flatMap(LoadCounters.machineTicks),
              let own = read("self/stat").flatMap(LoadCounters.processTicks)
        else { return nil }
        defer { previousTicks = (machine.busy, machine.total, own) }
        guard let previous = previousTicks, machine.total > previous.total, machine.busy >= previous.busy else { return nil }
        let busy = Double(machine.busy - previous.busy) - Double(own &- previous.own)
        return min(1, max(0, busy / Double(machine.total - previous.total)))
    }

    /// PSI `some` stall share since the previous call (avg10 on the first).
    private mutating func samplePressure(at now: Instant) -> Double? {
        guard let pressure = read("pressure/cpu").flatMap(LoadCounters.cpuPressure) else { return nil }
        defer { previousPressure = (now, pressure.totalMicroseconds) }
        guard let previous = previousPressure, pressure.totalMicroseconds >= previous.total else {
            return min(1, max(0, pressure.avg10 / 100))
        }
        let wall = previous.at.duration(to: now).seconds * 1e6
        guard wall > 0 else { return min(1, max(0, pressure.avg10 / 100)) }
        return min(1, max(0, Double(pressure.totalMicroseconds - previous.total) / wall))
    }

    /// Foreign and own bytes per second over about `foreignWindow`; nil until two readings.
    private mutating func sampleTraffic(at now: Instant, ownBytes: UInt64) -> (Double, Double)? {
        let watched = configuration.interfaces.isEmpty
            ? LoadCounters.defaultRouteInterfaces(ipv4: read("net/route"), ipv6: read("net/ipv6_route"))
            : configuration.interfaces
        guard let counters = read("net/dev").map(LoadCounters.interfaceBytes) else { return nil }
        var total: UInt64 = 0
        for name in watched {
            guard let bytes = counters[name] else { continue }
            total &+= bytes
        }
        // Another interface set, or a counter that went back (interface re-created, a new
        // transfer's running total): start over rather than report a jump.
        if watched != interfaces || traffic.last.map({ total < $0.interfaces || ownBytes < $0.own }) == true {
            traffic.removeAll()
        }
        interfaces = watched
        traffic.append((now, total, ownBytes))
        // Keep the newest reading at least `foreignWindow` old as the base, drop older ones.
        if let base = traffic.lastIndex(where: { $0.at.duration(to: now) >= configuration.foreignWindow }), base > 0 {
            traffic.removeFirst(base)
        }
        guard let first = traffic.first, traffic.count >= 2 else { return nil }
        let span = first.at.duration(to: now).seconds
        guard span > 0 else { return nil }
        let own = Double(ownBytes - first.own) * (1 + configuration.ownOverhead)
        let foreign = max(0, Double(total - first.interfaces) - own)
        return (foreign / span, own / span)
    }

    /// The text of `procRoot/relative`, or nil when missing or unreadable.
    private func read(_ relative: String) -> String? {
        Self.contents(of: configuration.procRoot + "/" + relative)
    }

    /// A small kernel file's text. /proc files report size 0, so it reads until EOF.
    static func contents(of path: String, limit: Int = 1 << 20) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        while bytes.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
