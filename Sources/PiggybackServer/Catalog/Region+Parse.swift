import Foundation

extension Region {
    /// Parses what an administrator types: `circle:LAT,LON,RADIUS` (radius in metres, or with
    /// a unit `m` or `km`), or GeoJSON text: a Polygon, a MultiPolygon, a Feature with such a
    /// geometry, a FeatureCollection whose features all are such, or the canonical
    /// `{"type":"Circle",…}` that `json` writes. Throws `ServerError(.invalid, …)` naming the
    /// place (JSON path, line and column) and what is wrong, so a bad region is refused at
    /// `package add` rather than delivered to the wrong terminals.
    public static func parse(_ text: String) throws -> Region {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            throw ServerError(.invalid, "the region is empty; give circle:LAT,LON,RADIUS (e.g. circle:35.68,139.77,5km) or GeoJSON text")
        }
        if trimmed.lowercased().hasPrefix("circle:") {
            return try circle(String(trimmed.dropFirst("circle:".count)))
        }
        if trimmed.hasPrefix("[") {
            throw ServerError(.invalid, "a GeoJSON region is an object with a \"type\", not a bare array; wrap coordinates as {\"type\":\"Polygon\",\"coordinates\":[…]}")
        }
        guard trimmed.hasPrefix("{") else {
            throw ServerError(.invalid, "\(excerpt(trimmed)) is not a region; give circle:LAT,LON,RADIUS (e.g. circle:35.68,139.77,5km) or GeoJSON text (Polygon, MultiPolygon, Feature or FeatureCollection)")
        }
        var reader = RegionGeoJSONReader()
        return try reader.region(RegionJSONParser.parse(trimmed))
    }

    /// `LAT,LON,RADIUS` after the `circle:` prefix.
    private static func circle(_ body: String) throws -> Region {
        let parts = body.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard parts.count == 3 else {
            throw ServerError(.invalid, "circle:\(body) has \(parts.count) value\(parts.count == 1 ? "" : "s"); a circle is circle:LAT,LON,RADIUS, e.g. circle:35.68,139.77,5km")
        }
        let lat = try number(parts[0], "latitude")
        let lon = try number(parts[1], "longitude")
        try checkPosition(lat: lat, lon: lon, at: "circle centre", geoJSON: false)
        var radiusText = parts[2].lowercased()
        var unit = 1.0
        if radiusText.hasSuffix("km") {
            radiusText.removeLast(2)
            unit = 1000
        } else if radiusText.hasSuffix("m") {
            radiusText.removeLast()
        }
        let radius = try number(radiusText.trimmingCharacters(in: .whitespaces), "radius", original: parts[2]) * unit
        try checkRadius(radius)
        return .circle(lat: lat, lon: lon, radiusMeters: radius)
    }

    private static func number(_ text: String, _ what: String, original: String? = nil) throws -> Double {
        guard let value = Double(text) else {
            throw ServerError(.invalid, "\(what) '\(original ?? text)' is not a number")
        }
        guard value.isFinite else {
            throw ServerError(.invalid, "\(what) '\(original ?? text)' is not a finite number")
        }
        return value
    }

    /// Refuses a position off the planet; GeoJSON's [longitude, latitude] order is the usual
    /// mistake, so the message says so when that is what it looks like.
    static func checkPosition(lat: Double, lon: Double, at place: String, geoJSON: Bool) throws {
        let hint = geoJSON ? " (GeoJSON positions are [longitude, latitude]; are they swapped?)" : ""
        guard lat.isFinite, lon.isFinite else {
            throw ServerError(.invalid, "\(place): \(lat),\(lon) is not a finite position")
        }
        guard (-90...90).contains(lat) else {
            throw ServerError(.invalid, "\(place): latitude \(lat) is out of range -90…90\(hint)")
        }
        guard (-180...180).contains(lon) else {
            throw ServerError(.invalid, "\(place): longitude \(lon) is out of range -180…180")
        }
    }

    static func checkRadius(_ radius: Double) throws {
        guard radius.isFinite, radius > 0 else {
            throw ServerError(.invalid, "circle radius \(radius) m must be greater than 0")
        }
        guard radius <= maximumRadiusMeters else {
            throw ServerError(.invalid, "circle radius \(Int(radius / 1000)) km covers the whole planet (at most \(Int(maximumRadiusMeters / 1000)) km); assign the package to all devices instead")
        }
    }
}
