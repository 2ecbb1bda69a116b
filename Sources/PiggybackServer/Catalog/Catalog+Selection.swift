import FluentKit
import Foundation

extension Catalog {
    /// A package chosen for a terminal, and why.
    struct Choice: Sendable {
        let package: PackageRecord
        let reason: String
    }

    /// What the server knows of a terminal when choosing its items.
    struct Terminal: Sendable {
        var deviceID: String
        var labels: [String: String]
        /// Section → key → value, as `InventoryStore.queryable` gives it.
        var inventory: [String: [String: String]]
        /// This session's position, nil when the terminal sent none or does not know it.
        var position: (lat: Double, lon: Double, accuracy: Double)?
    }

    /// Whether any package depends on position, so a session without a 60 should ask (1060).
    func hasRegionalPackages() async throws -> Bool {
        !(try await index.snapshot().regional.isEmpty)
    }

    /// The packages this terminal should receive now, oldest first.
    ///
    /// A package is a candidate when an assignment covers the terminal (its id, one of its
    /// labels, or all), or, unassigned, when it has a rule or a region. A candidate goes out
    /// only if its rule matches the inventory and its region contains the position with
    /// its accuracy. Never twice: what the terminal reports in its `piggyback` section (or,
    /// for a deb, its `software` section) or what a delivery record settled is left out; of
    /// several versions of a name only the newest goes; a package superseded by another
    /// chosen one is left out.
    func choose(for terminal: Terminal) async throws -> [Choice] {
        let snapshot = try await index.snapshot()
        var reasons: [UUID: String] = [:]
        for (id, assignments) in snapshot.assignments {
            if let covering = assignments.first(where: { covers($0, terminal) }) {
                reasons[id] = "assigned to \(covering.scope)"
            }
        }
        for id in snapshot.unassignedCandidates where snapshot.rules[id] != nil && !snapshot.regional.contains(id) {
            reasons[id] = "rule"
        }
        var inRegion = Set<UUID>()
        if let position = terminal.position {
            inRegion = Set(snapshot.regions.matching(lat: position.lat, lon: position.lon, accuracyMeters: position.accuracy))
            for id in inRegion where snapshot.assignments[id] == nil {
                reasons[id] = "region"
            }
        }
        let records = try await DeliveryRecord.query(on: store.db).filter(\.$deviceID == terminal.deviceID).all()
        let settled = Dictionary(records.map { ($0.packageID, $0) }, uniquingKeysWith: { a, _ in a })
        let delivered = terminal.inventory["piggyback"]
        var chosen: [Choice] = []
        for (id, base) in reasons {
            guard let package = snapshot.packages[id] else { continue }
            if let rule = snapshot.rules[id] {
                guard rule.matches(terminal.inventory) else { continue }
            }
            if snapshot.regional.contains(id) {
                guard inRegion.contains(id) else { continue }
            }
            if has(package, terminal: terminal, delivered: delivered, record: settled[id], regional: snapshot.regional.contains(id)) { continue }
            chosen.append(Choice(package: package, reason: describe(base, package)))
        }
        return Self.newestUnsuperseded(chosen)
    }

    /// Whether an assignment covers the terminal.
    func covers(_ assignment: AssignmentRecord, _ terminal: Terminal) -> Bool {
        if let deviceID = assignment.deviceID { return deviceID == terminal.deviceID }
        if let key = assignment.labelKey { return terminal.labels[key] == assignment.labelValue }
        return true
    }

    /// The reason shown to the user and the administrator.
    func describe(_ base: String, _ package: PackageRecord) -> String {
        var parts = [base == "rule" || base == "region" ? nil : base]
        if let rule = package.rule { parts.append("rule: \(rule)") }
        if let region = package.regionSummary { parts.append("region: \(region)") }
        return parts.compactMap { $0 }.joined(separator: "; ")
    }

    /// Whether the terminal already has the package (or a newer one of the same name).
    func has(_ package: PackageRecord, terminal: Terminal, delivered: [String: String]?, record: DeliveryRecord?, regional: Bool) -> Bool {
        if record?.final == true { return true }
        if let debPackage = package.debPackage, let debVersion = package.debVersion,
            let installed = terminal.inventory["software"]?[debPackage],
            let have = DebianVersion(installed), let want = DebianVersion(debVersion), DebianVersion.compare(have, want) >= 0
        {
            return true
        }
        guard let delivered else {
            // No `piggyback` section reported: the delivery records are all we know.
            return record?.settled ?? false
        }
        guard let version = delivered[package.name] else { return false }
        if version == package.version { return true }
        // Regional data of one name is replaced by whichever applies here, newer or not.
        guard !regional, let have = DebianVersion(version), let want = DebianVersion(package.version) else { return false }
        return DebianVersion.compare(have, want) > 0
    }

    /// Of several versions of one name the newest; nothing another chosen package supersedes.
    static func newestUnsuperseded(_ choices: [Choice]) -> [Choice] {
        var byName: [String: Choice] = [:]
        for choice in choices {
            guard let other = byName[choice.package.name] else {
                byName[choice.package.name] = choice
                continue
            }
            if newer(choice.package, than: other.package) { byName[choice.package.name] = choice }
        }
        let superseded = Set(byName.values.flatMap(\.package.supersededNames))
        return byName.values.filter { !superseded.contains($0.package.name) }.sorted { $0.package.createdAt < $1.package.createdAt }
    }

    static func newer(_ a: PackageRecord, than b: PackageRecord) -> Bool {
        if let left = DebianVersion(a.version), let right = DebianVersion(b.version) {
            let order = DebianVersion.compare(left, right)
            if order != 0 { return order > 0 }
        }
        return a.createdAt > b.createdAt
    }
}
