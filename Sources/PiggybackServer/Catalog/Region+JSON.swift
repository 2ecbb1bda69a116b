extension Region {
    /// Canonical JSON for storage and the admin API: no whitespace, members in a fixed order,
    /// numbers in their shortest exact form, so equal regions have equal text and
    /// `Region(json:)` gives the same value back. A polygon region is plain GeoJSON (a
    /// Polygon, or a MultiPolygon when there are several); a circle, which GeoJSON lacks, is
    /// `{"type":"Circle","coordinates":[LON,LAT],"radius":METRES}`.
    public var json: String {
        switch self {
        case .circle(let lat, let lon, let radius):
            return "{\"type\":\"Circle\",\"coordinates\":[\(Region.jsonNumber(lon)),\(Region.jsonNumber(lat))],\"radius\":\(Region.jsonNumber(radius))}"
        case .polygons(let polygons) where polygons.count == 1:
            var text = "{\"type\":\"Polygon\",\"coordinates\":"
            Region.write(polygons[0], to: &text)
            return text + "}"
        case .polygons(let polygons):
            var text = "{\"type\":\"MultiPolygon\",\"coordinates\":["
            for (index, polygon) in polygons.enumerated() {
                if index > 0 { text += "," }
                Region.write(polygon, to: &text)
            }
            return text + "]}"
        }
    }

    private static func write(_ rings: [[GeoPoint]], to text: inout String) {
        text += "["
        for (ringIndex, ring) in rings.enumerated() {
            if ringIndex > 0 { text += "," }
            text += "["
            for (index, point) in ring.enumerated() {
                if index > 0 { text += "," }
                text += "[\(jsonNumber(point.lon)),\(jsonNumber(point.lat))]"
            }
            text += "]"
        }
        text += "]"
    }

    /// The shortest text that reads back as exactly `value`: integers without ".0", zero
    /// without a sign, `null` for what JSON cannot hold (refused when read back).
    static func jsonNumber(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return "0" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
