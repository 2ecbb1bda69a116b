import ArgumentParser
import Foundation
import PiggybackAgent

/// Flags for how transfers stay out of the user's way.
struct ThrottleOptions: ParsableArguments {
    @Option(name: .long, help: "Transfer pacing: adaptive (yield to the user's traffic, delay and CPU) or off.")
    var throttle: String = "adaptive"

    @Option(name: .long, help: "Never faster than this, in bytes per second (suffixes K, M, G: powers of 1024).")
    var maxRate: String?

    @Option(name: .long, help: "Never more than this percentage of the learned link rate (1…100).")
    var maxLinkShare: Double = 100

    @Option(name: .long, help: "Queuing delay the agent may add at the bottleneck, in milliseconds.")
    var delayTarget: Int = 25

    @Option(name: .long, help: "Rate on a metered link, in bytes per second (default: the floor, 16K).")
    var meteredRate: String?

    func validate() throws {
        guard ["adaptive", "off"].contains(throttle) else { throw ValidationError("--throttle must be adaptive or off") }
        guard (1...100).contains(maxLinkShare) else { throw ValidationError("--max-link-share must be 1…100 (percent)") }
        guard (1...1000).contains(delayTarget) else { throw ValidationError("--delay-target must be 1…1000 ms") }
        if let maxRate { _ = try Self.rate(maxRate, flag: "--max-rate") }
        if let meteredRate { _ = try Self.rate(meteredRate, flag: "--metered-rate") }
    }

    /// Bytes per second from `2M`, `512K`, `1000`.
    static func rate(_ text: String, flag: String) throws -> Double {
        let units: [Character: Double] = ["K": 1024, "M": 1_048_576, "G": 1_073_741_824]
        var digits = Substring(text.uppercased())
        var factor = 1.0
        if let last = digits.last, let unit = units[last] {
            factor = unit
            digits = digits.dropLast()
        }
        guard let value = Double(digits), value.isFinite, value > 0 else {
            throw ValidationError("\(flag) must be a positive rate in bytes per second, e.g. 512K or 2M; got \(text)")
        }
        return value * factor
    }

    func apply(to configuration: inout AgentConfiguration) throws {
        configuration.throttle.enabled = throttle == "adaptive"
        if let maxRate { configuration.throttle.controller.maxRate = try Self.rate(maxRate, flag: "--max-rate") }
        configuration.throttle.controller.maxShareOfLink = maxLinkShare / 100
        configuration.throttle.controller.targetQueuingDelay = .milliseconds(delayTarget)
        if let meteredRate { configuration.throttle.controller.meteredRate = try Self.rate(meteredRate, flag: "--metered-rate") }
    }
}
