import Foundation
import PiggybackProtocol

extension ManagementSession {
    /// Builds the 30: the changes since the version the server acknowledged (1020), or
    /// everything when the server has none, the terminal no longer knows that version, or
    /// the periodic full resync is due. The new base is stored before sending; it becomes
    /// the base only when a later 1020 names its version.
    mutating func inventory(serverVersion: UInt64, request: WireInventoryRequest) async throws -> WireInventory {
        let recorder = InventoryRecorder(registry: registry, root: configuration.inventoryRoot, policy: configuration.changePolicy)
        let (collected, fresh) = try await recorder.current(maxAge: configuration.inventoryMaxAge)
        let source = fresh ? "" : ", from the last offline collection"
        let partial = !request.all && !request.sections.isEmpty
        let current = partial ? collected.filter { request.sections.contains($0.name) } : collected

        var inventory = WireInventory()
        let base = serverVersion == 0 ? nil : try await registry.snapshot(version: serverVersion)
        let resyncDue = base.map { Date().timeIntervalSince($0.fullAt) > configuration.fullResyncInterval.seconds } ?? true
        let snapshot: RegistrySnapshot
        if let base, !resyncDue {
            let delta = InventoryDelta(base: base.sections, current: current, policy: configuration.changePolicy, complete: !partial)
            inventory.baseVersion = serverVersion
            guard !delta.isEmpty else {
                // Nothing worth saying: confirm the version the server already holds.
                inventory.version = serverVersion
                report.inventory = "unchanged (version \(serverVersion))\(source)"
                return inventory
            }
            inventory.version = serverVersion + 1
            inventory.setSections(delta.sections)
            snapshot = .init(version: inventory.version, fullAt: base.fullAt, sections: delta.snapshot)
            report.inventory = "delta \(serverVersion) → \(inventory.version): \(delta.sections.count) section(s)\(source)"
        } else {
            inventory.full = true
            inventory.version = serverVersion + 1
            inventory.setSections(current)
            // A partial request replaces only the sections asked for; the base keeps the rest.
            let kept = partial ? (base?.sections ?? []).filter { old in !current.contains { $0.name == old.name } } : []
            // A failed section tells the server nothing new: it keeps its items, and so does the base.
            let known = current.map { section -> WireInventorySection in
                guard !section.failed.isEmpty, let old = base?.sections.first(where: { $0.name == section.name }) else { return section }
                var merged = section
                merged.items = old.items
                return merged
            }
            snapshot = .init(version: inventory.version, fullAt: Date(), sections: (kept + known).sorted { $0.name < $1.name })
            let why = serverVersion == 0 ? "server has none" : base == nil ? "version \(serverVersion) unknown here" : "periodic resync"
            report.inventory = "full, version \(inventory.version) (\(why))\(source)"
        }
        try await registry.saveSnapshot(snapshot)
        try await registry.pruneSnapshots(keeping: [serverVersion, inventory.version])
        return inventory
    }
}

typealias RegistrySnapshot = AgentRegistry.Snapshot
