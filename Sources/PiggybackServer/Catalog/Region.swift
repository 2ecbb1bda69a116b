import Foundation

/// Where a package applies: it goes only to terminals whose reported position, with its
/// accuracy radius, lies inside. Stored as canonical JSON text in the catalogue (`json`).
///
/// Geometry conventions, chosen so that every answer can be explained to an administrator:
/// - Circles are measured on the sphere (haversine, mean Earth radius), so they behave the
///   same at the equator, near the poles and across the antimeridian.
/// - Polygon edges are straight lines in longitude/latitude, as RFC 7946 §3.1.1 defines
///   GeoJSON edges; "inside" is the even-odd rule in that plane, holes excluded. The margin
///   for the accuracy radius is the great-circle distance from the position to the nearest
///   point of those edges.
/// - A polygon crossing the antimeridian must be split into two at ±180° (RFC 7946 §3.1.9):
///   an edge spanning more than 180° of longitude is refused at parse, because
///   `[170, 0] → [-170, 0]` would otherwise silently mean the long way round the planet.
///   A cap around a pole is a polygon up to latitude ±90 (split in two halves of longitude)
///   or, simpler, a circle.
/// - The whole accuracy disc must fit in one polygon: a terminal whose disc straddles the
///   shared edge of two polygons of a MultiPolygon (or of the two halves of a split
///   polygon) is not contained. Conservative: data goes only where it surely applies.
public enum Region: Sendable, Equatable {
    /// A spherical cap: every point within `radiusMeters` (great-circle) of the centre.
    case circle(lat: Double, lon: Double, radiusMeters: Double)
    /// One or more polygons (GeoJSON Polygon / MultiPolygon): each an outer ring plus holes,
    /// as GeoJSON orders them. Rings are closed (the last position repeats the first).
    case polygons([[[GeoPoint]]])

    /// Circles larger than this cover the whole planet: assign such a package to all devices.
    public static let maximumRadiusMeters = 20_000_000.0
    /// Positions a region may have in all; more is refused at parse (simplify the shape).
    public static let maximumPositions = 100_000

    /// Reads a region back from its canonical JSON (`json`), or any GeoJSON that `parse`
    /// accepts, validating it again: storage is input too.
    public init(json: String) throws {
        let trimmed = json.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix("{") else {
            throw ServerError(.invalid, "a stored region must be a JSON object; got \(Region.excerpt(trimmed))")
        }
        self = try Region.parse(trimmed)
    }

    /// True when the terminal's position, with its accuracy radius, lies in the region: the
    /// whole accuracy disc inside. Circle: distance + accuracy ≤ radius. Polygon: the position
    /// inside one polygon (not in its holes) and at least `accuracyMeters` from each of that
    /// polygon's edges. A position off the planet (NaN, latitude beyond ±90) or a non-finite
    /// accuracy is never contained; a negative accuracy counts as 0; longitudes outside
    /// ±180 are wrapped.
    public func contains(lat: Double, lon: Double, accuracyMeters: Double) -> Bool {
        guard let point = RegionGeometry.normalized(lat: lat, lon: lon), accuracyMeters < .infinity else {
            return false
        }
        let accuracy = max(0, accuracyMeters)
        switch self {
        case .circle(let centerLat, let centerLon, let radius):
            let distance = RegionGeometry.distance(point, GeoPoint(lat: centerLat, lon: centerLon))
            return distance + accuracy <= radius
        case .polygons(let polygons):
            return polygons.contains { RegionGeometry.polygon($0, contains: point, margin: accuracy) }
        }
    }

    /// A one-line description for offers and listings, e.g. "circle 35.68,139.77 r=5 km" or
    /// "polygon (12 points) around 35.65,139.75".
    public var summary: String {
        switch self {
        case .circle(let lat, let lon, let radius):
            let distance = radius >= 1000 ? "\(Region.decimal(radius / 1000, places: 2)) km" : "\(Region.decimal(radius, places: 1)) m"
            return "circle \(Region.decimal(lat, places: 5)),\(Region.decimal(lon, places: 5)) r=\(distance)"
        case .polygons(let polygons):
            let points = polygons.reduce(0) { sum, rings in sum + rings.reduce(0) { $0 + max(0, $1.count - 1) } }
            let holes = polygons.reduce(0) { $0 + max(0, $1.count - 1) }
            var text = polygons.count == 1 ? "polygon" : "\(polygons.count) polygons"
            text += " (\(points) points" + (holes == 0 ? "" : ", \(holes) hole\(holes == 1 ? "" : "s")") + ")"
            if let box = RegionGeometry.boundingBox(polygons) {
                text += " around \(Region.decimal((box.minLat + box.maxLat) / 2, places: 2)),\(Region.decimal((box.minLon + box.maxLon) / 2, places: 2))"
            }
            return text
        }
    }

    /// `value` rounded to at most `places` decimals, without trailing zeros ("5", "35.68").
    static func decimal(_ value: Double, places: Int) -> String {
        var text = String(format: "%.\(places)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }

    /// The start of `text` for an error message, so a pasted megabyte does not come back whole.
    static func excerpt(_ text: String) -> String {
        let line = text.prefix(40).replacingOccurrences(of: "\n", with: " ")
        return "'\(line)\(text.count > 40 ? "…" : "")'"
    }
}

/// A position as GeoJSON and the agent report it, in degrees (WGS 84).
public struct GeoPoint: Sendable, Equatable, Hashable, Codable {
    /// Latitude, -90…90.
    public var lat: Double
    /// Longitude, -180…180.
    public var lon: Double

    /// Creates a point; no validation (see `Region.parse` for that).
    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }
}
