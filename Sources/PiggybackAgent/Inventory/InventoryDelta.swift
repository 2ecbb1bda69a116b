import PiggybackProtocol

/// The change between the inventory the server acknowledged and the one just collected.
///
/// Works per item: additions and significant changes go out with their value, removals as
/// keys; insignificant drift (see ``ChangePolicy``) is neither sent nor taken into the new
/// base, so it accumulates until it is worth a report.
struct InventoryDelta {
    /// The sections to send (only those with something to say).
    var sections: [WireInventorySection] = []
    /// The inventory the server will hold once it applies this delta: the next base.
    var snapshot: [WireInventorySection] = []

    var isEmpty: Bool { sections.isEmpty }

    /// Compares `base` (what the server holds) with `current` (just collected). With
    /// `complete` false, `current` holds only the sections the server asked for: the others
    /// are neither removed nor changed.
    init(base: [WireInventorySection], current: [WireInventorySection], policy: ChangePolicy, complete: Bool = true) {
        let old = Dictionary(base.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for section in current {
            let previous = old[section.name]
            var next = WireInventorySection()
            next.name = section.name
            var out = WireInventorySection()
            out.name = section.name
            if !section.failed.isEmpty {
                // Nothing new is known: the server keeps the old items and learns why.
                next.items = previous?.items ?? []
                next.failed = section.failed
                if previous?.failed != section.failed {
                    out.failed = section.failed
                    sections.append(out)
                }
                snapshot.append(next)
                continue
            }
            let before = Dictionary((previous?.items ?? []).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            let now = Dictionary(section.items.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
            for item in section.items {
                if let value = before[item.key], !policy.isSignificant(section: section.name, key: item.key, old: value, new: item.value, items: now) {
                    var kept = item
                    kept.value = value
                    next.items.append(kept)
                } else {
                    next.items.append(item)
                    if before[item.key] != item.value { out.items.append(item) }
                }
            }
            out.removed = (previous?.items ?? []).map(\.key).filter { now[$0] == nil }
            if previous.map({ !$0.failed.isEmpty }) == true && out.items.isEmpty && out.removed.isEmpty {
                // The section recovered with unchanged items: say so, so the server clears the failure.
                out.items = Array(section.items.prefix(1))
            }
            if !out.items.isEmpty || !out.removed.isEmpty { sections.append(out) }
            snapshot.append(next)
        }
        for (name, section) in old where !current.contains(where: { $0.name == name }) {
            guard complete else {
                snapshot.append(section)
                continue
            }
            var gone = WireInventorySection()
            gone.name = name
            gone.removed = old[name]?.items.map(\.key) ?? []
            if !gone.removed.isEmpty { sections.append(gone) }
        }
        sections.sort { $0.name < $1.name }
        snapshot.sort { $0.name < $1.name }
    }
}
