/// The checks a polygon ring must pass before a region is stored: enough positions, closed,
/// no edge the long way round the antimeridian, some area, no self-intersection, holes inside.
enum RegionValidation {
    /// Pairs of edges the self-intersection sweep may compare; beyond it (a pathological
    /// ring of many thousands of overlapping edges) the check gives up rather than stall
    /// `package add`, and the ring is accepted as it is.
    static let intersectionBudget = 20_000_000
    /// Hole vertices tried when looking for one inside the outer ring.
    static let holeProbes = 16

    /// Throws `ServerError(.invalid, …)` naming `path` when the ring cannot be a polygon ring.
    static func checkRing(_ ring: [GeoPoint], at path: String) throws {
        guard ring.count >= 4 else {
            throw ServerError(.invalid, "\(path): the ring has \(ring.count) position\(ring.count == 1 ? "" : "s"); a closed ring needs at least 4 (three corners and the first repeated at the end)")
        }
        guard let first = ring.first, let last = ring.last, first == last else {
            throw ServerError(.invalid, "\(path): the ring is not closed: it starts at \(text(ring[0])) and ends at \(text(ring[ring.count - 1])); repeat the first position at the end")
        }
        for index in 0..<(ring.count - 1) where abs(ring[index + 1].lon - ring[index].lon) > 180 {
            throw ServerError(.invalid, "\(path): the edge \(text(ring[index]))→\(text(ring[index + 1])) spans more than 180° of longitude; a polygon crossing the antimeridian must be split into two at ±180 (RFC 7946 §3.1.9)")
        }
        var corners: [GeoPoint] = []
        for point in ring.dropLast() where point != corners.last {
            corners.append(point)
        }
        while corners.count > 1, corners.last == corners.first { corners.removeLast() }
        guard corners.count >= 3 else {
            throw ServerError(.invalid, "\(path): the ring has only \(corners.count) distinct position\(corners.count == 1 ? "" : "s"); it needs at least 3 corners")
        }
        guard area(corners) != 0 else {
            throw ServerError(.invalid, "\(path): the ring has no area (its positions lie on one line)")
        }
        if let (one, other) = selfIntersection(corners) {
            throw ServerError(.invalid, "\(path): the ring intersects itself: edge \(text(one.0))→\(text(one.1)) meets edge \(text(other.0))→\(text(other.1)); a ring must not cross or touch itself (use a MultiPolygon for separate parts)")
        }
    }

    /// Throws when the hole is not within the outer ring: its rectangle must lie in the outer
    /// ring's, and one of its first vertices strictly inside the outer ring. (Holes crossing
    /// the outer ring's edges or each other are not looked for.)
    static func checkHole(_ hole: [GeoPoint], inside outer: [GeoPoint], at path: String) throws {
        guard let holeBox = RegionGeometry.boundingBox(rings: [hole]), let outerBox = RegionGeometry.boundingBox(rings: [outer]),
              holeBox.minLat >= outerBox.minLat, holeBox.maxLat <= outerBox.maxLat,
              holeBox.minLon >= outerBox.minLon, holeBox.maxLon <= outerBox.maxLon,
              hole.prefix(holeProbes).contains(where: { RegionGeometry.ring(outer, contains: $0) })
        else {
            throw ServerError(.invalid, "\(path): the hole lies outside the polygon's outer ring; the first ring is the outline, the others are holes inside it")
        }
    }

    /// Twice the signed area in the longitude/latitude plane (shoelace).
    static func area(_ corners: [GeoPoint]) -> Double {
        var sum = 0.0
        for index in corners.indices {
            let a = corners[index]
            let b = corners[(index + 1) % corners.count]
            sum += a.lon * b.lat - b.lon * a.lat
        }
        return sum
    }

    /// Two edges of the ring (corners without the closing repeat) that cross, touch or
    /// overlap, or nil: a sweep over edges sorted by west end compares only edges whose
    /// longitude ranges overlap, so ordinary rings cost about n log n.
    static func selfIntersection(_ corners: [GeoPoint]) -> ((GeoPoint, GeoPoint), (GeoPoint, GeoPoint))? {
        let count = corners.count
        func edge(_ index: Int) -> (GeoPoint, GeoPoint) { (corners[index], corners[(index + 1) % count]) }
        // An edge that doubles back along the previous one overlaps it.
        for index in 0..<count {
            let (a, b) = edge(index)
            let c = corners[(index + 2) % count]
            let turn = cross(a, b, c)
            let dot = (b.lon - a.lon) * (c.lon - b.lon) + (b.lat - a.lat) * (c.lat - b.lat)
            if turn == 0, dot < 0 { return (edge(index), edge((index + 1) % count)) }
        }
        guard count > 3 else { return nil }
        let west = (0..<count).map { min(corners[$0].lon, corners[($0 + 1) % count].lon) }
        let order = (0..<count).sorted { west[$0] < west[$1] }
        var budget = intersectionBudget
        for (position, i) in order.enumerated() {
            let (a, b) = edge(i)
            let east = max(a.lon, b.lon)
            for j in order[(position + 1)...] {
                guard west[j] <= east else { break }
                budget -= 1
                if budget < 0 { return nil }
                if (i + 1) % count == j || (j + 1) % count == i { continue }  // neighbours share a corner
                let (c, d) = edge(j)
                if segmentsMeet(a, b, c, d) { return (edge(min(i, j)), edge(max(i, j))) }
            }
        }
        return nil
    }

    /// Whether segments a–b and c–d share any point (crossing, touching or overlapping).
    static func segmentsMeet(_ a: GeoPoint, _ b: GeoPoint, _ c: GeoPoint, _ d: GeoPoint) -> Bool {
        let d1 = cross(c, d, a)
        let d2 = cross(c, d, b)
        let d3 = cross(a, b, c)
        let d4 = cross(a, b, d)
        if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
        return (d1 == 0 && within(c, d, a)) || (d2 == 0 && within(c, d, b))
            || (d3 == 0 && within(a, b, c)) || (d4 == 0 && within(a, b, d))
    }

    private static func cross(_ origin: GeoPoint, _ a: GeoPoint, _ b: GeoPoint) -> Double {
        (a.lon - origin.lon) * (b.lat - origin.lat) - (a.lat - origin.lat) * (b.lon - origin.lon)
    }

    /// Whether `point`, collinear with a–b, lies on the segment.
    private static func within(_ a: GeoPoint, _ b: GeoPoint, _ point: GeoPoint) -> Bool {
        point.lon >= min(a.lon, b.lon) && point.lon <= max(a.lon, b.lon)
            && point.lat >= min(a.lat, b.lat) && point.lat <= max(a.lat, b.lat)
    }

    /// A position as GeoJSON writes it, for messages.
    static func text(_ point: GeoPoint) -> String {
        "[\(Region.jsonNumber(point.lon)), \(Region.jsonNumber(point.lat))]"
    }
}
