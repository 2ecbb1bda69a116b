/// How transfers are throttled: one value per agent, part of the agent's configuration.
public struct ThrottleConfiguration: Sendable, Equatable {
    /// Throttle at all (default true). Off, transfers run at whatever the window allows,
    /// as a baseline for the benchmark.
    public var enabled: Bool
    /// What is sampled, where, and how often.
    public var sampler: LoadSamplerConfiguration
    /// How the rate follows the signals.
    public var controller: RateControllerConfiguration
    /// Burst the pacer allows after a pause, as time at the current rate (default 10 ms).
    public var burst: Duration

    /// The defaults described on each property.
    public init(
        enabled: Bool = true,
        sampler: LoadSamplerConfiguration = LoadSamplerConfiguration(),
        controller: RateControllerConfiguration = RateControllerConfiguration(),
        burst: Duration = .milliseconds(10)
    ) {
        self.enabled = enabled
        self.sampler = sampler
        self.controller = controller
        self.burst = burst
    }
}
