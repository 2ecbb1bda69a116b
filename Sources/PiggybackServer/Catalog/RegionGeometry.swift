import Foundation

/// The geometry behind `Region.contains` and `RegionIndex`: great-circle distances on a
/// sphere of the mean Earth radius, even-odd point-in-polygon in longitude/latitude (GeoJSON's
/// straight edges), and a rigorous distance-to-edge test. Nothing here allocates or traps
/// on odd input, so a region built by hand without `Region.parse` still answers safely.
enum RegionGeometry {
    /// Mean Earth radius (IUGG), as the agent's `GreatCircle` uses.
    static let earthRadius = 6_371_008.8
    static let radiansPerDegree = Double.pi / 180
    /// How close a distance-to-edge test gets before it stops refining (metres); undecided
    /// cases within this are counted as too close, so the answer errs towards "not contained".
    static let edgeTolerance = 0.05

    /// A latitude/longitude rectangle in degrees that never crosses the antimeridian.
    struct Box: Sendable, Equatable {
        var minLat: Double
        var maxLat: Double
        var minLon: Double
        var maxLon: Double

        func contains(_ point: GeoPoint) -> Bool {
            point.lat >= minLat && point.lat <= maxLat && point.lon >= minLon && point.lon <= maxLon
        }
    }

    /// The position as a point in range, or nil if it is not on the planet. Longitudes outside
    /// ±180 are wrapped; ±180 itself is kept, so a point on a split polygon's seam stays put.
    static func normalized(lat: Double, lon: Double) -> GeoPoint? {
        guard lat.isFinite, lon.isFinite, (-90...90).contains(lat) else { return nil }
        guard !(-180...180).contains(lon) else { return GeoPoint(lat: lat, lon: lon) }
        var wrapped = (lon + 180).truncatingRemainder(dividingBy: 360)
        if wrapped < 0 { wrapped += 360 }
        return GeoPoint(lat: lat, lon: wrapped - 180)
    }

    /// Haversine great-circle distance in metres.
    static func distance(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let phi1 = a.lat * radiansPerDegree
        let phi2 = b.lat * radiansPerDegree
        let sinLat = sin((phi2 - phi1) / 2)
        let sinLon = sin((b.lon - a.lon) * radiansPerDegree / 2)
        let h = sinLat * sinLat + cos(phi1) * cos(phi2) * sinLon * sinLon
        return 2 * earthRadius * asin(min(1, h.squareRoot()))
    }

    /// Even-odd rule in the longitude/latitude plane; works for closed and open rings.
    static func ring(_ ring: [GeoPoint], contains point: GeoPoint) -> Bool {
        guard ring.count >= 3 else { return false }
        var inside = false
        var previous = ring[ring.count - 1]
        for current in ring {
            if (current.lat > point.lat) != (previous.lat > point.lat) {
                let crossing = current.lon + (previous.lon - current.lon) * (point.lat - current.lat) / (previous.lat - current.lat)
                if point.lon < crossing { inside.toggle() }
            }
            previous = current
        }
        return inside
    }

    /// True when the point is inside the polygon (outer ring minus holes) and at least
    /// `margin` metres from every edge of its rings.
    static func polygon(_ rings: [[GeoPoint]], contains point: GeoPoint, margin: Double) -> Bool {
        guard let outer = rings.first, ring(outer, contains: point) else { return false }
        for hole in rings.dropFirst() where ring(hole, contains: point) {
            return false
        }
        guard margin > 0 else { return true }
        return !rings.contains { ring($0, hasEdgeCloserThan: margin, to: point) }
    }

    /// True when some edge of the ring passes within `margin` metres of `point`. Edges are
    /// skipped first by cheap lower bounds on the distance (latitude gap, longitude gap).
    static func ring(_ ring: [GeoPoint], hasEdgeCloserThan margin: Double, to point: GeoPoint) -> Bool {
        guard ring.count >= 2 else { return false }
        let angle = margin / earthRadius
        let cosLat = cos(point.lat * radiansPerDegree)
        for index in ring.indices {
            let a = ring[index]
            let b = ring[(index + 1) % ring.count]
            let latGap = max(0, min(a.lat, b.lat) - point.lat, point.lat - max(a.lat, b.lat)) * radiansPerDegree
            if latGap >= angle { continue }  // any two points are at least their latitude difference apart
            if let lonGap = longitudeGap(a, b, point), asin(min(1, cosLat * sin(lonGap))) >= angle {
                continue  // distance to the meridian at the nearest longitude of the edge
            }
            if segment(a, b, closerThan: margin, to: point) { return true }
        }
        return false
    }

    /// The smallest longitude difference (radians) between `point` and the edge, when the
    /// edge lies entirely on one side of the point's meridian within 90°; nil otherwise.
    private static func longitudeGap(_ a: GeoPoint, _ b: GeoPoint, _ point: GeoPoint) -> Double? {
        guard abs(a.lon - b.lon) < 180 else { return nil }
        let da = wrappedDegrees(a.lon - point.lon)
        let db = wrappedDegrees(b.lon - point.lon)
        guard (da > 0 && db > 0) || (da < 0 && db < 0), abs(da) <= 90, abs(db) <= 90 else { return nil }
        return min(abs(da), abs(db)) * radiansPerDegree
    }

    private static func wrappedDegrees(_ degrees: Double) -> Double {
        var value = degrees
        if value > 180 { value -= 360 }
        if value < -180 { value += 360 }
        return value
    }

    /// Whether the straight longitude/latitude edge a→b passes within `margin` metres of
    /// `point`: branch and bound on the edge's parameter with a Lipschitz bound (the edge
    /// point moves at most `speed` metres per unit of the parameter), so it needs no
    /// assumption about the distance's shape and settles to within `edgeTolerance`.
    static func segment(_ a: GeoPoint, _ b: GeoPoint, closerThan margin: Double, to point: GeoPoint) -> Bool {
        let fa = distance(point, a)
        let fb = distance(point, b)
        if fa < margin || fb < margin { return true }
        let dLat = (b.lat - a.lat) * radiansPerDegree
        let maxCos = (min(a.lat, b.lat) <= 0 && max(a.lat, b.lat) >= 0) ? 1 : cos(min(abs(a.lat), abs(b.lat)) * radiansPerDegree)
        let dLon = (b.lon - a.lon) * radiansPerDegree * maxCos
        let speed = earthRadius * (dLat * dLat + dLon * dLon).squareRoot()
        return search(a, b, point, lo: 0, hi: 1, flo: fa, fhi: fb, speed: speed, margin: margin, depth: 0)
    }

    private static func search(
        _ a: GeoPoint, _ b: GeoPoint, _ point: GeoPoint,
        lo: Double, hi: Double, flo: Double, fhi: Double, speed: Double, margin: Double, depth: Int
    ) -> Bool {
        let width = (hi - lo) * speed
        if (flo + fhi - width) / 2 >= margin { return false }  // no point of [lo, hi] is that close
        if width <= edgeTolerance || depth >= 64 { return true }  // undecided within tolerance: too close
        let mid = (lo + hi) / 2
        let fmid = distance(point, GeoPoint(lat: a.lat + (b.lat - a.lat) * mid, lon: a.lon + (b.lon - a.lon) * mid))
        if fmid < margin { return true }
        return search(a, b, point, lo: lo, hi: mid, flo: flo, fhi: fmid, speed: speed, margin: margin, depth: depth + 1)
            || search(a, b, point, lo: mid, hi: hi, flo: fmid, fhi: fhi, speed: speed, margin: margin, depth: depth + 1)
    }

    /// The rectangle around every position of the polygons, nil when there is none.
    static func boundingBox(_ polygons: [[[GeoPoint]]]) -> Box? {
        var box: Box?
        for rings in polygons {
            guard let polygonBox = boundingBox(rings: rings) else { continue }
            box = box.map {
                Box(minLat: min($0.minLat, polygonBox.minLat), maxLat: max($0.maxLat, polygonBox.maxLat),
                    minLon: min($0.minLon, polygonBox.minLon), maxLon: max($0.maxLon, polygonBox.maxLon))
            } ?? polygonBox
        }
        return box
    }

    /// The rectangle around one polygon's outer ring (its holes lie inside).
    static func boundingBox(rings: [[GeoPoint]]) -> Box? {
        guard let outer = rings.first, let first = outer.first else { return nil }
        var box = Box(minLat: first.lat, maxLat: first.lat, minLon: first.lon, maxLon: first.lon)
        for point in outer {
            box.minLat = min(box.minLat, point.lat)
            box.maxLat = max(box.maxLat, point.lat)
            box.minLon = min(box.minLon, point.lon)
            box.maxLon = max(box.maxLon, point.lon)
        }
        return box
    }

    /// Rectangles that together hold every position the region can contain: one per polygon,
    /// or for a circle its extent (two rectangles across the antimeridian, full longitude
    /// around a pole), widened by a hair so rounding cannot drop a point on the boundary.
    static func boxes(_ region: Region) -> [Box] {
        switch region {
        case .polygons(let polygons):
            return polygons.compactMap { boundingBox(rings: $0) }
        case .circle(let lat, let lon, let radius):
            guard lat.isFinite, lon.isFinite, radius.isFinite, radius >= 0 else { return [] }
            let slack = 1e-6
            let angle = radius / earthRadius
            let dLat = angle / radiansPerDegree + slack
            let minLat = max(-90, lat - dLat)
            let maxLat = min(90, lat + dLat)
            let reach = sin(angle) / cos(lat * radiansPerDegree)
            guard lat + dLat < 90, lat - dLat > -90, angle < .pi / 2, reach < 1 else {
                return [Box(minLat: minLat, maxLat: maxLat, minLon: -180, maxLon: 180)]
            }
            let dLon = asin(reach) / radiansPerDegree + slack
            let west = lon - dLon
            let east = lon + dLon
            if west < -180 {
                return [Box(minLat: minLat, maxLat: maxLat, minLon: -180, maxLon: east),
                        Box(minLat: minLat, maxLat: maxLat, minLon: west + 360, maxLon: 180)]
            }
            if east > 180 {
                return [Box(minLat: minLat, maxLat: maxLat, minLon: west, maxLon: 180),
                        Box(minLat: minLat, maxLat: maxLat, minLon: -180, maxLon: east - 360)]
            }
            return [Box(minLat: minLat, maxLat: maxLat, minLon: west, maxLon: east)]
        }
    }
}
