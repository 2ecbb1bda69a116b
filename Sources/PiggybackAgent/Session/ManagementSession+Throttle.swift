import Foundation

extension ManagementSession {
    /// The session's throttle, created on first use with the session's gates.
    mutating func transferThrottle() async -> TransferThrottle<ContinuousClock> {
        if let throttle { return throttle }
        let created = TransferThrottle(configuration: configuration.throttle, logger: logger)
        await created.setConditions(metered: policy.metered, onBattery: policy.lowBattery)
        if configuration.throttle.enabled, let serverPort {
            // The kernel's RTT of this connection is the delay signal (see `SessionSocket`).
            let socket = await SessionSocket.descriptor(remotePort: serverPort)
            await created.watch(socket: socket)
            channel.trace.note(socket == nil ? "rate: no socket found for TCP_INFO; timing acknowledgements" : "rate: delay from the kernel's RTT of the session socket")
        }
        throttle = created
        return created
    }

    /// The chunk size and window the throttle wants now: a chunk is a few milliseconds at
    /// the allowed rate, and the window holds about 50 ms of it (at least two chunks), so
    /// what is in flight when the terminal must yield drains quickly.
    func transferLimits(_ decision: RateDecision) -> (chunk: Int, window: Int) {
        guard configuration.throttle.enabled else { return (chunkSize, window) }
        let chunk = max(1024, min(chunkSize, decision.chunkSize))
        let inFlight = decision.bytesPerSecond * 0.05
        let wanted = Int((inFlight / Double(chunk)).rounded(.up))
        return (chunk, max(2, min(window, wanted)))
    }

    /// Writes the throttle's state to the trace when its reason changes, and the transfer's
    /// progress to the board.
    mutating func noteTransfer(_ throttle: TransferThrottle<ContinuousClock>, key: String, direction: String, name: String, done: UInt64, total: UInt64) async {
        let decision = await throttle.decision
        let summary = await throttle.summary
        if configuration.throttle.enabled, decision.reason != tracedRateReason {
            tracedRateReason = decision.reason
            channel.trace.note("rate: \(summary)")
        }
        await board?.update(key, direction: direction, name: name, done: done, total: total, throttle: configuration.throttle.enabled ? summary : "off", reason: configuration.throttle.enabled ? decision.reason.rawValue : "off")
    }
}
