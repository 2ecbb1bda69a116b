import Foundation
@testable import PiggybackServer
import Testing

/// Whether a terminal's position with its accuracy radius lies in a region: the whole
/// accuracy disc must be inside.
@Suite struct RegionContainsTests {
    /// Metres per degree of latitude on the sphere the regions use.
    static let metresPerDegree = RegionGeometry.earthRadius * Double.pi / 180

    /// Tokyo square 139–140 E, 35–36 N with a hole 139.4–139.6 E, 35.4–35.6 N.
    static let squareWithHole = Region.polygons([[
        [.init(lat: 35, lon: 139), .init(lat: 35, lon: 140), .init(lat: 36, lon: 140), .init(lat: 36, lon: 139), .init(lat: 35, lon: 139)],
        [.init(lat: 35.4, lon: 139.4), .init(lat: 35.6, lon: 139.4), .init(lat: 35.6, lon: 139.6), .init(lat: 35.4, lon: 139.6), .init(lat: 35.4, lon: 139.4)],
    ]])

    @Test func circleBoundaryWithAccuracy() {
        let circle = Region.circle(lat: 35.68, lon: 139.77, radiusMeters: 5000)
        // 4 000 m due north: the disc fits with 999 m accuracy, not with 1 001 m.
        let north = 35.68 + 4000 / Self.metresPerDegree
        #expect(circle.contains(lat: north, lon: 139.77, accuracyMeters: 999))
        #expect(!circle.contains(lat: north, lon: 139.77, accuracyMeters: 1001))
        // Just outside, even with a perfect fix; just inside with none given.
        #expect(!circle.contains(lat: 35.68 + 5001 / Self.metresPerDegree, lon: 139.77, accuracyMeters: 0))
        #expect(circle.contains(lat: 35.68 + 4999 / Self.metresPerDegree, lon: 139.77, accuracyMeters: 0))
        // Due east is shorter in degrees by cos(latitude): great-circle, not degrees.
        let east = 139.77 + 4990 / (Self.metresPerDegree * cos(35.68 * Double.pi / 180))
        #expect(circle.contains(lat: 35.68, lon: east, accuracyMeters: 5))
        #expect(!circle.contains(lat: 35.68, lon: east, accuracyMeters: 15))
        // Off the planet or unknown accuracy: never; negative accuracy counts as none.
        #expect(!circle.contains(lat: .nan, lon: 139.77, accuracyMeters: 0))
        #expect(!circle.contains(lat: 35.68, lon: 139.77, accuracyMeters: .nan))
        #expect(!circle.contains(lat: 35.68, lon: 139.77, accuracyMeters: .infinity))
        #expect(!circle.contains(lat: 95, lon: 139.77, accuracyMeters: 0))
        #expect(circle.contains(lat: 35.68, lon: 139.77, accuracyMeters: -3))
        #expect(circle.contains(lat: 35.68, lon: 139.77 - 360, accuracyMeters: 10))
    }

    @Test func polygonWithHole() {
        let region = Self.squareWithHole
        #expect(region.contains(lat: 35.2, lon: 139.2, accuracyMeters: 100))
        #expect(!region.contains(lat: 35.5, lon: 139.5, accuracyMeters: 0))  // in the hole
        #expect(!region.contains(lat: 34.9, lon: 139.5, accuracyMeters: 0))  // south of the square
        // 0.01° west of the hole's edge at 35.5 N is about 905 m.
        #expect(region.contains(lat: 35.5, lon: 139.39, accuracyMeters: 800))
        #expect(!region.contains(lat: 35.5, lon: 139.39, accuracyMeters: 1000))
    }

    @Test func accuracyLargerThanDistanceToEdge() {
        let region = Self.squareWithHole
        // 0.001° north of the southern edge (a parallel) is 111 m from it.
        #expect(region.contains(lat: 35.001, lon: 139.2, accuracyMeters: 100))
        #expect(!region.contains(lat: 35.001, lon: 139.2, accuracyMeters: 120))
        // A slanted edge: the triangle's hypotenuse from (35, 139) to (36, 140).
        let triangle = Region.polygons([[[.init(lat: 35, lon: 139), .init(lat: 35, lon: 140), .init(lat: 36, lon: 140), .init(lat: 35, lon: 139)]]])
        let point = GeoPoint(lat: 35.5, lon: 139.51)
        let nearest = Self.sampledDistance(from: point, to: GeoPoint(lat: 35, lon: 139), GeoPoint(lat: 36, lon: 140))
        #expect(nearest > 500 && nearest < 1000)
        #expect(triangle.contains(lat: point.lat, lon: point.lon, accuracyMeters: nearest - 1))
        #expect(!triangle.contains(lat: point.lat, lon: point.lon, accuracyMeters: nearest + 1))
    }

    /// The edge test agrees with a dense sampling of each edge, for edges short and long,
    /// near the equator and at 70° N (where longitude degrees are short).
    @Test func edgeDistanceAgreesWithSampling() {
        var random = SeededRandom(seed: 7)
        for _ in 0..<200 {
            let lat = Double.random(in: -70...70, using: &random)
            let lon = Double.random(in: -170...170, using: &random)
            let span = [0.01, 0.3, 5][Int.random(in: 0..<3, using: &random)]
            let a = GeoPoint(lat: lat, lon: lon)
            let b = GeoPoint(lat: lat + Double.random(in: -span...span, using: &random), lon: lon + Double.random(in: -span...span, using: &random))
            let point = GeoPoint(lat: lat + Double.random(in: -span...span, using: &random), lon: lon + Double.random(in: -span...span, using: &random))
            let sampled = Self.sampledDistance(from: point, to: a, b)
            // Sampling overestimates by at most half a step; keep clear of that band.
            let step = RegionGeometry.distance(a, b) / 20_000 + 0.1
            #expect(RegionGeometry.segment(a, b, closerThan: sampled + step, to: point))
            #expect(!RegionGeometry.segment(a, b, closerThan: sampled - step, to: point))
        }
    }

    @Test func multiPolygonNeedsTheDiscInOnePolygon() throws {
        // Two squares side by side at 139.5 E, and Osaka apart.
        let region = try Region.parse("""
            {"type":"MultiPolygon","coordinates":[
              [[[139,35],[139.5,35],[139.5,36],[139,36],[139,35]]],
              [[[139.5,35],[140,35],[140,36],[139.5,36],[139.5,35]]],
              [[[135,34],[136,34],[136,35],[135,35],[135,34]]]
            ]}
            """)
        #expect(region.contains(lat: 35.5, lon: 139.2, accuracyMeters: 50))
        #expect(region.contains(lat: 35.5, lon: 139.8, accuracyMeters: 50))
        #expect(region.contains(lat: 34.5, lon: 135.5, accuracyMeters: 50))
        #expect(!region.contains(lat: 34.5, lon: 137, accuracyMeters: 0))
        // A disc straddling the shared edge fits in neither square alone: not contained.
        #expect(region.contains(lat: 35.5, lon: 139.49, accuracyMeters: 0))
        #expect(!region.contains(lat: 35.5, lon: 139.499, accuracyMeters: 200))
    }

    @Test func antimeridianAndPoles() throws {
        // Fiji as RFC 7946 asks: split at 180.
        let fiji = try Region.parse("""
            {"type":"MultiPolygon","coordinates":[
              [[[176,-20],[180,-20],[180,-15],[176,-15],[176,-20]]],
              [[[-180,-20],[-178,-20],[-178,-15],[-180,-15],[-180,-20]]]
            ]}
            """)
        #expect(fiji.contains(lat: -17, lon: 178, accuracyMeters: 100))
        #expect(fiji.contains(lat: -17, lon: -179, accuracyMeters: 100))
        #expect(fiji.contains(lat: -17, lon: 181, accuracyMeters: 100))  // wrapped to -179
        #expect(!fiji.contains(lat: -17, lon: 0, accuracyMeters: 0))
        // A circle across the antimeridian: about 32 km from its centre on the other side.
        let circle = Region.circle(lat: -17, lon: 179.9, radiusMeters: 50_000)
        #expect(circle.contains(lat: -17, lon: -179.8, accuracyMeters: 1000))
        #expect(!circle.contains(lat: -17, lon: -179.3, accuracyMeters: 1000))
        // A circle around the north pole reaches every longitude.
        let pole = Region.circle(lat: 90, lon: 0, radiusMeters: 100_000)
        #expect(pole.contains(lat: 89.5, lon: 123, accuracyMeters: 10))
        #expect(pole.contains(lat: 89.5, lon: -57, accuracyMeters: 10))
        #expect(!pole.contains(lat: 88, lon: 0, accuracyMeters: 10))
        // A polar cap as two polygon halves up to 90 N.
        let cap = try Region.parse("""
            {"type":"MultiPolygon","coordinates":[
              [[[-180,80],[0,80],[0,90],[-180,90],[-180,80]]],
              [[[0,80],[180,80],[180,90],[0,90],[0,80]]]
            ]}
            """)
        #expect(cap.contains(lat: 85, lon: 45, accuracyMeters: 1000))
        #expect(cap.contains(lat: 85, lon: -135, accuracyMeters: 1000))
        #expect(!cap.contains(lat: 79.9, lon: 45, accuracyMeters: 0))
    }

    /// The smallest great-circle distance from `point` to 20 001 points along the edge.
    static func sampledDistance(from point: GeoPoint, to a: GeoPoint, _ b: GeoPoint) -> Double {
        var best = Double.infinity
        for step in 0...20_000 {
            let t = Double(step) / 20_000
            best = min(best, RegionGeometry.distance(point, GeoPoint(lat: a.lat + (b.lat - a.lat) * t, lon: a.lon + (b.lon - a.lon) * t)))
        }
        return best
    }
}

/// SplitMix64: a repeatable generator, so random tests fail the same way twice.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
