import Foundation

/// Distances on the earth's surface, for trying the nearest server first.
public enum GreatCircle {
    /// Mean earth radius (IUGG), kilometres.
    public static let earthRadiusKm = 6371.0088

    /// Haversine distance in kilometres between two WGS-84 points (degrees); accurate to
    /// about 0.5 % (the earth is not a sphere), plenty to rank servers.
    public static func distanceKm(from a: (lat: Double, lon: Double), to b: (lat: Double, lon: Double)) -> Double {
        let radians = Double.pi / 180
        let dLat = (b.lat - a.lat) * radians
        let dLon = (b.lon - a.lon) * radians
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.lat * radians) * cos(b.lat * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusKm * asin(min(1, sqrt(h)))
    }

    /// Whether a point is a real position: finite, latitude within ±90°, longitude within ±180°.
    public static func isValid(_ point: (lat: Double, lon: Double)) -> Bool {
        point.lat.isFinite && point.lon.isFinite && (-90...90).contains(point.lat) && (-180...180).contains(point.lon)
    }
}
