import Synchronization

/// Collects triggers from every source (monitor, timer, control socket) and wakes the
/// daemon's loop; triggers that arrive while it is busy coalesce into one.
public final class TriggerInbox: Sendable {
    private let pending = Mutex<Set<TriggerKind>>([])
    private let wake: AsyncStream<Void>.Continuation
    /// One element per wake-up; several fires before the reader looks make one.
    public let wakes: AsyncStream<Void>

    public init() {
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Records a trigger and wakes the reader.
    public func fire(_ kind: TriggerKind) {
        pending.withLock { _ = $0.insert(kind) }
        wake.yield()
    }

    /// The triggers recorded since the last call, cleared.
    public func take() -> Set<TriggerKind> {
        pending.withLock { kinds in
            defer { kinds.removeAll() }
            return kinds
        }
    }

    /// Ends the wake stream (shutdown).
    public func finish() {
        wake.finish()
    }
}
