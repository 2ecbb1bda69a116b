import ArgumentParser
import Foundation
import PiggybackServer

/// Position selection (issue 5): with 10,000 regional packages, choosing the items for one
/// position must take ≤ 5 ms. Times `RegionIndex.matching` per position against the naive
/// baseline, `Region.contains` on every region, in the same run, and checks they agree.
struct RegionBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions",
        abstract: "Measure choosing the regional packages for one position (RegionIndex vs testing every region)."
    )

    @Option(help: "Regional packages (half circles of 1–50 km, half polygons of 5–40 points).") var regions = 10_000
    @Option(help: "Timed positions for the index.") var queries = 10_000
    @Option(help: "Positions for the brute-force baseline (every region tested exactly).") var bruteQueries = 1_000
    @Option(help: "Seed of the random regions and positions, for repeatable runs.") var seed: UInt64 = 5

    /// Where the regions and positions are spread: Japan and Europe (lat, lon ranges).
    static let areas: [(lat: ClosedRange<Double>, lon: ClosedRange<Double>)] = [
        (31...45.5, 129.5...145.8),
        (36...70, -10...40),
    ]

    func run() async throws {
        var random = BenchRandom(seed: seed)
        let clock = ContinuousClock()

        // What administrators would type at `package add`, parsed and validated as there.
        let texts = (0..<regions).map { Self.regionText(circle: $0 % 2 == 0, using: &random) }
        let parseStart = clock.now
        let parsed = try texts.map { try Region.parse($0) }
        let parseMilliseconds = SessionBench.milliseconds(clock.now - parseStart)
        let points = parsed.reduce(0) { sum, region in
            if case .polygons(let polygons) = region { return sum + polygons[0][0].count - 1 }
            return sum
        }

        let buildStart = clock.now
        let index = RegionIndex(parsed.enumerated().map { (id: $0.offset, region: $0.element) })
        let buildMilliseconds = SessionBench.milliseconds(clock.now - buildStart)

        let positions = (0..<queries).map { _ in Self.position(near: parsed, using: &random) }
        var indexTimes: [Double] = []
        var found: [[Int]] = []
        indexTimes.reserveCapacity(queries)
        for position in positions {
            let start = clock.now
            let ids = index.matching(lat: position.lat, lon: position.lon, accuracyMeters: position.accuracy)
            indexTimes.append(SessionBench.milliseconds(clock.now - start))
            found.append(ids)
        }

        var bruteTimes: [Double] = []
        var disagreements = 0
        for (number, position) in positions.prefix(bruteQueries).enumerated() {
            let start = clock.now
            let ids = parsed.indices.filter {
                parsed[$0].contains(lat: position.lat, lon: position.lon, accuracyMeters: position.accuracy)
            }
            bruteTimes.append(SessionBench.milliseconds(clock.now - start))
            if ids != found[number] { disagreements += 1 }
        }

        let matches = Double(found.reduce(0) { $0 + $1.count }) / Double(max(1, found.count))
        let hit = Double(found.filter { !$0.isEmpty }.count) / Double(max(1, found.count)) * 100
        let indexP95 = SessionBench.percentile(indexTimes, 0.95)
        print("""
            ## Position selection: \(regions) regional packages, \(queries) positions

            Regions: \((regions + 1) / 2) circles of 1–50 km and \(regions / 2) polygons of 5–40 points \
            (\(points) points in all), over Japan and Europe; parsing and validating their text took \
            \(Self.format(parseMilliseconds)) ms, building the index \(Self.format(buildMilliseconds)) ms. \
            Positions: half near a region, half anywhere in the two areas, accuracy 5–2000 m; \
            \(Self.format(matches)) matching regions per position on average, \(Self.format(hit)) % of positions match one or more.

            | per position | median ms | p95 ms | max ms |
            |---|---|---|---|
            | `RegionIndex.matching` (\(indexTimes.count) positions) | \(Self.format(SessionBench.median(indexTimes))) | \(Self.format(indexP95)) | \(Self.format(indexTimes.max() ?? 0)) |
            | every region's `Region.contains` (\(bruteTimes.count) positions) | \(Self.format(SessionBench.median(bruteTimes))) | \(Self.format(SessionBench.percentile(bruteTimes, 0.95))) | \(Self.format(bruteTimes.max() ?? 0)) |

            ratio brute force / index (median): \(Self.format(SessionBench.median(bruteTimes) / max(1e-9, SessionBench.median(indexTimes))))
            same answers on \(bruteTimes.count - disagreements) of \(bruteTimes.count) positions
            goal ≤ 5 ms per position: \(indexP95 <= 5 && (indexTimes.max() ?? 0) <= 5 ? "met (p95 and max)" : indexP95 <= 5 ? "met at p95, not at max" : "not met")
            """)
        if disagreements > 0 {
            throw ValidationError("the index and the brute-force scan disagree on \(disagreements) positions")
        }
    }

    /// `circle:LAT,LON,Rkm` or a GeoJSON Polygon text, star-shaped around a random centre.
    static func regionText(circle: Bool, using random: inout BenchRandom) -> String {
        let area = areas[Int.random(in: 0..<areas.count, using: &random)]
        let lat = Double.random(in: area.lat, using: &random)
        let lon = Double.random(in: area.lon, using: &random)
        let radiusKm = Double.random(in: 1...50, using: &random)
        if circle {
            return "circle:\(lat),\(lon),\(radiusKm)km"
        }
        let corners = Int.random(in: 5...40, using: &random)
        let size = radiusKm / 111.2
        let stretch = 1 / cos(lat * Double.pi / 180)
        var ring: [String] = []
        for corner in 0..<corners {
            let angle = (Double(corner) + Double.random(in: 0..<0.8, using: &random)) / Double(corners) * 2 * Double.pi
            let reach = size * Double.random(in: 0.4...1, using: &random)
            ring.append("[\(lon + reach * stretch * cos(angle)),\(lat + reach * sin(angle))]")
        }
        ring.append(ring[0])
        return "{\"type\":\"Polygon\",\"coordinates\":[[\(ring.joined(separator: ","))]]}"
    }

    /// Half the positions within ~50 km of some region's centre, half anywhere in the areas.
    static func position(near regions: [Region], using random: inout BenchRandom) -> (lat: Double, lon: Double, accuracy: Double) {
        let accuracy = Double.random(in: 5...2000, using: &random)
        if Bool.random(using: &random), let region = regions.randomElement(using: &random) {
            let center: (Double, Double)
            switch region {
            case .circle(let lat, let lon, _): center = (lat, lon)
            case .polygons(let polygons): center = (polygons[0][0][0].lat, polygons[0][0][0].lon)
            }
            return (center.0 + Double.random(in: -0.4...0.4, using: &random), center.1 + Double.random(in: -0.4...0.4, using: &random), accuracy)
        }
        let area = areas[Int.random(in: 0..<areas.count, using: &random)]
        return (Double.random(in: area.lat, using: &random), Double.random(in: area.lon, using: &random), accuracy)
    }

    static func format(_ value: Double) -> String {
        value < 0.1 ? String(format: "%.4f", value) : String(format: "%.2f", value)
    }
}

/// SplitMix64, so two runs with the same seed measure the same regions and positions.
struct BenchRandom: RandomNumberGenerator {
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
