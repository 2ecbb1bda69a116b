import Foundation
import Logging

extension ServerLocator {
    /// The configured servers in the order given: `list #1`, `list #2`, …
    static func listed(_ configured: [Candidate], logger: Logger) -> [LocatedServer] {
        configured.enumerated().compactMap { index, candidate in
            located(candidate, reason: "list #\(index + 1)", method: .list, logger: logger)
        }
    }

    /// The configured servers nearest first (great-circle distance from `position`); those
    /// without a location follow in list order. Without a usable position, or when no server
    /// has a location, the list order stands and the reason says why.
    static func nearest(_ configured: [Candidate], position: (lat: Double, lon: Double)?, logger: Logger) -> [LocatedServer] {
        let numbered = Array(configured.enumerated())
        guard let position, GreatCircle.isValid(position) else {
            return numbered.compactMap { located($1, reason: "nearest: terminal position unknown, list #\($0 + 1)", method: .nearest, logger: logger) }
        }
        let placed = numbered.compactMap { index, candidate -> (index: Int, candidate: Candidate, km: Double)? in
            guard let location = candidate.location, GreatCircle.isValid(location) else { return nil }
            return (index, candidate, GreatCircle.distanceKm(from: position, to: location))
        }
        guard !placed.isEmpty else {
            return numbered.compactMap { located($1, reason: "nearest: no server location known, list #\($0 + 1)", method: .nearest, logger: logger) }
        }
        let byDistance = placed.sorted { ($0.km, $0.index) < ($1.km, $1.index) }.compactMap { entry in
            located(entry.candidate, reason: "nearest: \(String(format: "%.1f", entry.km)) km (list #\(entry.index + 1))", method: .nearest, logger: logger)
        }
        let unplaced = numbered.filter { index, _ in !placed.contains { $0.index == index } }.compactMap { index, candidate in
            located(candidate, reason: "nearest: location unknown, list #\(index + 1)", method: .nearest, logger: logger)
        }
        return byDistance + unplaced
    }

    /// A configured server as a ``LocatedServer``; nil (logged) when its URL is not usable.
    static func located(_ candidate: Candidate, reason: String, method: DiscoveryMethod, logger: Logger) -> LocatedServer? {
        do {
            return LocatedServer(endpoint: try Endpoint(candidate.url), reason: reason, method: method, location: candidate.location)
        } catch {
            logger.warning("discovery: configured server skipped", metadata: ["server": "\(candidate.url)", "error": "\(error)"])
            return nil
        }
    }
}
