import FluentKit
import Foundation

/// The catalogue as the per-session choice needs it, held in memory: packages, assignments,
/// parsed rules and a region index.
///
/// Why: choosing a terminal's items happens in every session, and with thousands of
/// regional packages re-reading and re-parsing them each time would dominate the session.
/// Changes made through this server invalidate it at once; a short lifetime covers other
/// servers sharing the same PostgreSQL database.
actor CatalogIndex {
    /// One consistent view of the catalogue.
    struct Snapshot: Sendable {
        var packages: [UUID: PackageRecord] = [:]
        var assignments: [UUID: [AssignmentRecord]] = [:]
        var rules: [UUID: InventoryQuery] = [:]
        var regions = RegionIndex<UUID>([])
        var regional: Set<UUID> = []
        /// Packages chosen without an assignment: those with a rule or a region.
        var unassignedCandidates: [UUID] = []
    }

    let store: ServerStore
    /// How long a loaded snapshot is trusted when nothing here changed it.
    let lifetime: Duration
    private var current: Snapshot?
    private var loadedAt = ContinuousClock.now

    init(store: ServerStore, lifetime: Duration = .seconds(5)) {
        self.store = store
        self.lifetime = lifetime
    }

    /// Forgets the snapshot after a change to packages or assignments.
    func invalidate() { current = nil }

    /// The current snapshot, loading it when stale.
    func snapshot() async throws -> Snapshot {
        if let current, ContinuousClock.now - loadedAt < lifetime { return current }
        let loaded = try await load()
        current = loaded
        loadedAt = .now
        return loaded
    }

    /// Builds a snapshot from the database; packages whose stored rule or region no longer
    /// parses are left out of automatic choice (they were checked at `package add`).
    func load() async throws -> Snapshot {
        var snapshot = Snapshot()
        let packages = try await PackageRecord.query(on: store.db).all()
        var regions: [(id: UUID, region: Region)] = []
        for package in packages {
            guard let id = package.id else { continue }
            snapshot.packages[id] = package
            if let text = package.rule {
                guard let rule = try? InventoryQuery(parsing: text) else { continue }
                snapshot.rules[id] = rule
            }
            if let json = package.region {
                guard let region = try? Region(json: json) else { continue }
                regions.append((id, region))
                snapshot.regional.insert(id)
            }
        }
        snapshot.regions = RegionIndex(regions)
        for assignment in try await AssignmentRecord.query(on: store.db).all() {
            snapshot.assignments[assignment.packageID, default: []].append(assignment)
        }
        snapshot.unassignedCandidates = snapshot.packages.keys.filter { id in
            snapshot.assignments[id] == nil && (snapshot.rules[id] != nil || snapshot.regional.contains(id))
        }
        return snapshot
    }
}
