/// What the terminal looks like to the rate controller at one moment: how busy the CPU is
/// with other work, how much network traffic is not ours, and how long our acknowledgements
/// take. Every measured field is optional, because each source can be missing (no PSI in the
/// kernel, no delay sample in this interval); the controller ignores what is nil.
///
/// `LoadSampler` fills the measured fields from /proc; the caller adds the gates (metered,
/// battery) it learns from the monitor.
public struct LoadSignals: Sendable, Equatable {
    /// Share (0…1) of all CPUs' time that other processes were busy since the previous
    /// sample (/proc/stat minus this process's own ticks). High means the user's work needs
    /// the CPU that our decrypting, hashing and writing would take.
    public var cpuBusy: Double?
    /// Share (0…1) of time since the previous sample in which at least one runnable task
    /// waited for a CPU (PSI `/proc/pressure/cpu`, `some`). Nil where the kernel has no PSI.
    public var cpuPressure: Double?
    /// Bytes per second crossing the watched interfaces (received + sent) that were not
    /// ours: the user's mail, browser or transaction. The first sign of foreground traffic.
    public var foreignBytesPerSecond: Double?
    /// TCP connections opened in this network namespace since the previous sample (either
    /// way: /proc/net/snmp ActiveOpens + PassiveOpens). The agent opens none while a
    /// transfer runs, so any is the user's program starting to talk — seen at its handshake,
    /// before its bytes add up to `foreignBytesPerSecond`.
    public var newConnections: Int?
    /// Our own bytes per second on the wire in the same interval (headers included), so the
    /// controller can tell counting noise (a share of our rate) from real foreign traffic.
    public var ownBytesPerSecond: Double?
    /// The smallest round-trip time seen since the previous sample (our acknowledgements'
    /// round trip, or the kernel's TCP RTT); queuing delay is this minus the learned base.
    public var delay: Duration?
    /// The link is metered (mobile data, tethering): the metered gate applies.
    public var metered: Bool
    /// The terminal runs on battery: the battery gate applies.
    public var onBattery: Bool

    /// Signals as given; everything unknown by default.
    public init(
        cpuBusy: Double? = nil,
        cpuPressure: Double? = nil,
        foreignBytesPerSecond: Double? = nil,
        ownBytesPerSecond: Double? = nil,
        delay: Duration? = nil,
        metered: Bool = false,
        onBattery: Bool = false
    ) {
        self.cpuBusy = cpuBusy
        self.cpuPressure = cpuPressure
        self.foreignBytesPerSecond = foreignBytesPerSecond
        self.ownBytesPerSecond = ownBytesPerSecond
        self.delay = delay
        self.metered = metered
        self.onBattery = onBattery
    }
}
