import Foundation
@testable import PiggybackServer
import Testing

/// The index finds exactly what a scan of every region finds.
@Suite struct RegionIndexTests {
    @Test func agreesWithBruteForce() throws {
        var random = SeededRandom(seed: 20_240_605)
        var regions: [Region] = []
        for _ in 0..<2000 {
            let region = Self.randomRegion(using: &random)
            // Every generated region is valid input, and survives storage unchanged.
            #expect(try Region(json: region.json) == region)
            regions.append(region)
        }
        let index = RegionIndex(regions.enumerated().map { (id: $0.offset, region: $0.element) })
        #expect(index.count == 2000)

        var matched = 0
        var empty = 0
        for _ in 0..<500 {
            let (lat, lon) = Self.randomPosition(near: regions, using: &random)
            let accuracy = Double.random(in: 0..<1, using: &random) < 0.1 ? 0 : Double.random(in: 1...3000, using: &random)
            let expected = regions.indices.filter { regions[$0].contains(lat: lat, lon: lon, accuracyMeters: accuracy) }
            let found = index.matching(lat: lat, lon: lon, accuracyMeters: accuracy)
            #expect(found == expected, "at \(lat),\(lon) ±\(accuracy) m")
            matched += expected.count
            empty += expected.isEmpty ? 1 : 0
        }
        // The comparison means something only if both outcomes are common.
        #expect(matched > 300, "only \(matched) matches")
        #expect(empty > 50, "only \(empty) positions matched nothing")
    }

    @Test func edgeCases() {
        let index = RegionIndex([
            (id: "fiji", region: .circle(lat: -17, lon: 179.9, radiusMeters: 50_000)),
            (id: "tonga", region: .circle(lat: 17, lon: -179.9, radiusMeters: 50_000)),
            (id: "pole", region: .circle(lat: 89.9, lon: 10, radiusMeters: 30_000)),
            (id: "world", region: .circle(lat: 0, lon: 0, radiusMeters: 19_000_000)),
            (id: "empty", region: .polygons([])),
        ])
        #expect(index.matching(lat: -17, lon: -179.8, accuracyMeters: 100) == ["fiji", "world"])
        #expect(index.matching(lat: -17, lon: 179.6, accuracyMeters: 100) == ["fiji", "world"])
        #expect(index.matching(lat: 17, lon: 179.7, accuracyMeters: 100) == ["tonga", "world"])
        #expect(index.matching(lat: 17, lon: -179.7, accuracyMeters: 100) == ["tonga", "world"])
        #expect(index.matching(lat: 89.9, lon: -170, accuracyMeters: 100) == ["pole", "world"])
        #expect(index.matching(lat: 10, lon: 10, accuracyMeters: 100) == ["world"])
        #expect(index.matching(lat: .nan, lon: 10, accuracyMeters: 100).isEmpty)
        #expect(RegionIndex<Int>([]).matching(lat: 0, lon: 0, accuracyMeters: 0).isEmpty)
    }

    /// Circles of 0.5–200 km (a few of 500–3000 km) and star-shaped polygons of 5–40 corners,
    /// a third with a hole: most in a cluster around Japan so that regions overlap, some on
    /// either side of the antimeridian, some near the poles, the rest anywhere.
    static func randomRegion(using random: inout SeededRandom) -> Region {
        let place = Double.random(in: 0..<1, using: &random)
        let side: Double = Bool.random(using: &random) ? 1 : -1
        let (lat, lon) = switch place {
        case ..<0.6: (Double.random(in: 30...46, using: &random), Double.random(in: 128...146, using: &random))
        case ..<0.75: (Double.random(in: -30...30, using: &random), side * Double.random(in: 178...180, using: &random))
        case ..<0.85: (side * Double.random(in: 80...89.9, using: &random), Double.random(in: -180...180, using: &random))
        default: (Double.random(in: -89...89, using: &random), Double.random(in: -180...180, using: &random))
        }
        if Double.random(in: 0..<1, using: &random) < 0.6 {
            let large = Double.random(in: 0..<1, using: &random) < 0.05
            let radius = large ? Double.random(in: 500_000...3_000_000, using: &random) : Double.random(in: 500...200_000, using: &random)
            return .circle(lat: lat, lon: lon, radiusMeters: radius)
        }
        let size = Double.random(in: 0.05...2, using: &random)
        let centerLat = min(max(lat, -88 + size), 88 - size)
        let stretch = 1 / max(0.2, cos(centerLat * Double.pi / 180))
        let centerLon = min(max(lon, -180 + size * stretch), 180 - size * stretch)
        let corners = Int.random(in: 5...40, using: &random)
        var outer: [GeoPoint] = []
        for corner in 0..<corners {
            let angle = (Double(corner) + Double.random(in: 0..<0.8, using: &random)) / Double(corners) * 2 * Double.pi
            let reach = size * Double.random(in: 0.4...1, using: &random)
            outer.append(GeoPoint(lat: centerLat + reach * sin(angle), lon: centerLon + reach * stretch * cos(angle)))
        }
        outer.append(outer[0])
        guard Double.random(in: 0..<1, using: &random) < 0.33 else { return .polygons([[outer]]) }
        let hole = outer.reversed().map {
            GeoPoint(lat: centerLat + ($0.lat - centerLat) * 0.3, lon: centerLon + ($0.lon - centerLon) * 0.3)
        }
        return .polygons([[outer, hole]])
    }

    /// Half near some region's centre, half anywhere in the cluster or on the planet.
    static func randomPosition(near regions: [Region], using random: inout SeededRandom) -> (Double, Double) {
        let choice = Double.random(in: 0..<1, using: &random)
        if choice < 0.5, let region = regions.randomElement(using: &random) {
            let center: GeoPoint
            switch region {
            case .circle(let lat, let lon, _): center = GeoPoint(lat: lat, lon: lon)
            case .polygons(let polygons): center = polygons[0][0][0]
            }
            let jitter = Double.random(in: 0...1, using: &random)
            return (min(90, max(-90, center.lat + Double.random(in: -jitter...jitter, using: &random))),
                    center.lon + Double.random(in: -jitter...jitter, using: &random))
        }
        if choice < 0.8 {
            return (Double.random(in: 30...46, using: &random), Double.random(in: 128...146, using: &random))
        }
        return (Double.random(in: -90...90, using: &random), Double.random(in: -180...180, using: &random))
    }
}
