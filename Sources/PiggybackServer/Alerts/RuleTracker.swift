/// One rule on one device during an analysis: counts matches against the threshold within
/// the window, raises the alert when it is reached, then adds to the open alert.
///
/// Pure state (no I/O), so it runs off the event loops and is tested on its own. Memory is
/// bounded: at most `threshold - 1` pending times and ``AlertCenter/sampleLimit`` lines.
struct RuleTracker: Sendable {
    /// A match that has not raised an alert yet.
    struct Pending: Codable, Sendable, Equatable {
        /// Seconds since 1970.
        var t: Double
        /// The line, kept for the newest pending matches only (the alert's first samples).
        var line: String?
    }

    /// The device's open alert for the rule.
    struct Open: Sendable, Equatable {
        var first: Double
        var last: Double
        var count: Int64
        var samples: [String]
        /// Raised during this analysis (not loaded).
        var raised = false
        /// Changed during this analysis.
        var changed = false
    }

    let threshold: Int
    /// Seconds; 0: no window.
    let window: Double
    var pending: [Pending]
    var open: Open?
    /// Whether `pending` differs from what was loaded.
    var pendingChanged = false

    init(threshold: Int, window: Double, pending: [Pending] = [], open: Open? = nil) {
        self.threshold = max(1, threshold)
        self.window = max(0, window)
        self.pending = pending.sorted { $0.t < $1.t }
        self.open = open
    }

    /// One matching line at `time`; `line` gives its sample text when one is kept.
    mutating func record(time: Double, line: () -> String) {
        if var alert = open {
            alert.count += 1
            alert.first = min(alert.first, time)
            alert.last = max(alert.last, time)
            if alert.samples.count < AlertCenter.sampleLimit { alert.samples.append(line()) }
            alert.changed = true
            open = alert
            return
        }
        pendingChanged = true
        let index = pending.firstIndex { $0.t > time } ?? pending.endIndex
        pending.insert(Pending(t: time, line: line()), at: index)
        if window > 0, let newest = pending.last?.t {
            pending.removeAll { newest - $0.t > window }
        }
        // Keep sample text for the newest few only.
        var kept = 0
        for slot in pending.indices.reversed() where pending[slot].line != nil {
            kept += 1
            if kept > AlertCenter.sampleLimit { pending[slot].line = nil }
        }
        guard pending.count >= threshold, let first = pending.first, let last = pending.last else { return }
        open = Open(
            first: first.t, last: last.t, count: Int64(pending.count), samples: pending.compactMap(\.line),
            raised: true, changed: true
        )
        pending = []
    }
}
