import Foundation
import PiggybackProtocol

/// Collects the inventory while offline and keeps it in the local registry (Fig. 3,
/// 311–317): the latest collection, and a log of what changed between collections.
///
/// The resident agent records on a timer and at start; a session takes the latest
/// collection when it is recent enough and collects anew when it is stale.
public struct InventoryRecorder: Sendable {
    let registry: AgentRegistry
    let root: URL
    let policy: ChangePolicy

    /// Records into `registry`, reading the system under `root` (`/` on a live system).
    public init(registry: AgentRegistry, root: URL = URL(fileURLWithPath: "/"), policy: ChangePolicy = ChangePolicy()) {
        self.registry = registry
        self.root = root
        self.policy = policy
    }

    /// What one collection found.
    public struct Outcome: Sendable {
        /// The sections as collected.
        public var sections: [WireInventorySection]
        /// Changes since the previous collection that the change policy counts (empty on the first).
        public var changes: [AgentRegistry.LocalChange]
        /// True when there was no earlier collection to compare with.
        public var first: Bool
    }

    /// Collects now, stores the result as the latest collection and logs what changed.
    @discardableResult
    public func record(at now: Date = Date()) async throws -> Outcome {
        let sections = InventoryCollector(root: root, delivered: try await registry.installedPackages().map(\.package)).collect()
        let base = try await registry.local("logged")
        var changes: [AgentRegistry.LocalChange] = []
        var logged = sections
        if let base {
            let delta = InventoryDelta(base: base.sections, current: sections, policy: policy)
            changes = Self.changes(delta, base: base.sections, at: now)
            logged = delta.snapshot
        }
        try await registry.saveLocal("collected", at: now, sections: sections)
        try await registry.saveLocal("logged", at: now, sections: logged)
        try await registry.appendChanges(changes)
        return Outcome(sections: sections, changes: changes, first: base == nil)
    }

    /// The latest collection when it is younger than `maxAge`, otherwise a new one.
    public func current(maxAge: Duration, now: Date = Date()) async throws -> (sections: [WireInventorySection], fresh: Bool) {
        if let latest = try await registry.latestCollection(), now.timeIntervalSince(latest.at) < maxAge.seconds, latest.at <= now {
            return (latest.sections, false)
        }
        return (try await record(at: now).sections, true)
    }

    /// The delta as item-level changes, with old values from `base`.
    static func changes(_ delta: InventoryDelta, base: [WireInventorySection], at: Date) -> [AgentRegistry.LocalChange] {
        let old = Dictionary(base.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var changes: [AgentRegistry.LocalChange] = []
        for section in delta.sections {
            let before = Dictionary((old[section.name]?.items ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let failedBefore = old[section.name]?.failed.nilIfEmpty
            if section.failed.nilIfEmpty != failedBefore, !(section.failed.isEmpty && section.items.isEmpty && !section.removed.isEmpty && failedBefore == nil) {
                changes.append(.init(at: at, section: section.name, key: "_failed", old: failedBefore, new: section.failed.nilIfEmpty))
            }
            for item in section.items where before[item.key] != item.value {
                changes.append(.init(at: at, section: section.name, key: item.key, old: before[item.key], new: item.value))
            }
            for key in section.removed {
                changes.append(.init(at: at, section: section.name, key: key, old: before[key], new: nil))
            }
        }
        return changes
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var seconds: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
