/// How the load sampler reads the terminal's CPU and network load.
public struct LoadSamplerConfiguration: Sendable, Equatable {
    /// How often to sample while a transfer runs (default 100 ms): short enough to yield to
    /// the user's traffic within a second, long enough that reading /proc costs nothing
    /// noticeable (a few small files, tens of microseconds). Nothing is sampled between
    /// transfers.
    public var interval: Duration
    /// Where procfs is mounted (default "/proc"); tests point it at a directory of fake files.
    /// The network counters come from `net/dev` here rather than /sys/class/net, because
    /// /proc/net always shows the agent's own network namespace while /sys shows the
    /// namespace of whoever mounted it.
    public var procRoot: String
    /// Interfaces whose traffic counts (default empty: those holding a default route, looked
    /// up on every sample so a switch from Wi-Fi to mobile is followed).
    public var interfaces: [String]
    /// Bytes the wire carries per byte the caller reports as ours (default 0.07: Ethernet, IP
    /// and TCP headers of full segments plus the pure ACKs going the other way). Without it
    /// our own headers would look like foreign traffic at high rates.
    public var ownOverhead: Double
    /// The span foreign traffic is averaged over (default 300 ms). Our own bytes are reported
    /// a chunk at a time while the interface counts them packet by packet; a span of a few
    /// chunks keeps that mismatch from looking like foreign traffic.
    public var foreignWindow: Duration

    /// The defaults described on each property.
    public init(
        interval: Duration = .milliseconds(100),
        procRoot: String = "/proc",
        interfaces: [String] = [],
        ownOverhead: Double = 0.07,
        foreignWindow: Duration = .milliseconds(300)
    ) {
        self.interval = interval
        self.procRoot = procRoot
        self.interfaces = interfaces
        self.ownOverhead = ownOverhead
        self.foreignWindow = foreignWindow
    }
}
