#if os(Linux)
import Foundation
import Glibc
import Logging

extension ForeignTrafficWatcher {
    /// The thread's life: sleep in poll until an announcement, a tick or a word from the
    /// owner; report what another program did, at most once per `interval`.
    static func watch(
        _ resources: inout Resources, shared: Shared, interval: Duration, ownTraffic: OwnTraffic,
        continuation: AsyncStream<Sighting>.Continuation, logger: Logger
    ) {
        let clock = ContinuousClock()
        var online = false
        var nextTick = clock.now
        var lastOpens: UInt64?
        var lastSighting: ContinuousClock.Instant?
        var destroyFD = resources.destroy?.fd ?? -1
        // A negative descriptor is skipped by poll(2): offline, announcements wait in the
        // socket's queue (and are discarded on coming online) without waking the thread.
        var descriptors = [pollfd(fd: -1, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: shared.wake.fd, events: Int16(POLLIN), revents: 0)]

        func report(_ remote: String, _ source: Sighting.Source) {
            let now = clock.now
            if let last = lastSighting, now - last < interval { return }
            lastSighting = now
            logger.debug("foreign traffic", metadata: ["remote": "\(remote)", "seen": "\(source.rawValue)"])
            continuation.yield(Sighting(remote: remote, source: source))
        }

        while true {
            let control = shared.control.withLock { $0 }
            if control.stopped { return }
            if control.online != online {
                online = control.online
                if online {
                    _ = resources.destroy?.drain()  // ends from before: not this online period's
                    lastOpens = resources.scan.table.openedConnections()
                    resources.scan.baseline()
                    nextTick = clock.now + interval
                }
                descriptors[0].fd = online ? destroyFD : -1
            }
            var timeout: Int32 = -1
            if online {
                let left = (nextTick - clock.now) / .milliseconds(1)
                timeout = Int32(max(0, min(left.rounded(.up), 3_600_000)))
            }
            descriptors[0].revents = 0
            descriptors[1].revents = 0
            if poll(&descriptors, 2, timeout) < 0 {
                if errno == EINTR { continue }
                logger.error("poll failed; other programs' traffic goes unnoticed", metadata: ["errno": "\(errno)"])
                return
            }
            if descriptors[1].revents != 0 {
                shared.wake.consume()
                continue
            }
            let events = descriptors[0].revents
            if events & Int16(POLLIN | POLLERR) != 0, let destroy = resources.destroy {
                let (ended, _, overrun) = destroy.drain()
                for end in ended where end.isConversation {
                    shared.ends.add(1, ordering: .relaxed)
                    if resources.scan.alreadyReported(end) || ownTraffic.isOwn(end) { continue }
                    report(end.remote.description, .ended)
                }
                if overrun && !ownTraffic.isActive {
                    // So many sockets closed that the kernel dropped announcements: somebody talks.
                    report("(many)", .ended)
                }
            } else if events != 0 {
                logger.error("the socket-destroy socket failed; short connections go unnoticed", metadata: ["revents": "\(events)"])
                destroyFD = -1
                descriptors[0].fd = -1
                resources.destroy = nil
            }
            let now = clock.now
            guard online, now >= nextTick else { continue }
            nextTick = nextTick + interval
            if nextTick <= now { nextTick = now + interval }  // asleep too long: no burst of ticks
            shared.ticks.add(1, ordering: .relaxed)
            // The costly table read only when a TCP connection was opened since the last
            // tick (the kernel's ActiveOpens + PassiveOpens moved).
            let opens = resources.scan.table.openedConnections()
            let quiet = opens != nil && opens == lastOpens && resources.scan.hasBaseline
            lastOpens = opens
            guard !quiet else { continue }
            shared.scans.add(1, ordering: .relaxed)
            if let connection = resources.scan.scan() {
                report(connection.remote, .opened)
            }
        }
    }
}
#endif
