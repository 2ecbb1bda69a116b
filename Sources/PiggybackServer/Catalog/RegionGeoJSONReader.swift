/// Turns parsed GeoJSON into a validated `Region`, naming the JSON path of whatever is wrong
/// ("features[2].geometry.coordinates[0]: ring is not closed …").
struct RegionGeoJSONReader {
    /// Positions read so far, against `Region.maximumPositions`.
    private var positions = 0

    /// The region a top-level GeoJSON object describes.
    mutating func region(_ value: RegionJSONValue) throws -> Region {
        let type = try self.type(of: value, at: "the region")
        switch type {
        case "Circle":
            guard case .array(let center)? = value["coordinates"] else {
                throw ServerError(.invalid, "a Circle needs \"coordinates\": [longitude, latitude]")
            }
            let point = try position(.array(center), at: "coordinates")
            guard case .number(let radius)? = value["radius"] else {
                throw ServerError(.invalid, "a Circle needs \"radius\": its radius in metres")
            }
            try Region.checkRadius(radius)
            return .circle(lat: point.lat, lon: point.lon, radiusMeters: radius)
        case "FeatureCollection":
            guard case .array(let features)? = value["features"] else {
                throw ServerError(.invalid, "a FeatureCollection needs \"features\": an array of Features")
            }
            guard !features.isEmpty else {
                throw ServerError(.invalid, "the FeatureCollection has no features; a region needs at least one polygon")
            }
            var polygons: [[[GeoPoint]]] = []
            for (index, feature) in features.enumerated() {
                let path = "features[\(index)]"
                let featureType = try self.type(of: feature, at: path)
                guard featureType == "Feature" else {
                    throw ServerError(.invalid, "\(path): a FeatureCollection holds Features, not \(featureType)")
                }
                polygons += try self.feature(feature, at: path)
            }
            return .polygons(polygons)
        case "Feature":
            return .polygons(try feature(value, at: "the Feature"))
        default:
            return .polygons(try geometry(value, type: type, at: "the region"))
        }
    }

    private func type(of value: RegionJSONValue, at path: String) throws -> String {
        guard case .object = value else {
            throw ServerError(.invalid, "\(path) must be a GeoJSON object, not \(value.kind)")
        }
        guard case .string(let type)? = value["type"] else {
            throw ServerError(.invalid, "\(path) has no \"type\" (Polygon, MultiPolygon, Feature or FeatureCollection)")
        }
        return type
    }

    private mutating func feature(_ value: RegionJSONValue, at path: String) throws -> [[[GeoPoint]]] {
        guard let geometry = value["geometry"], case .object = geometry else {
            throw ServerError(.invalid, "\(path) has no geometry; a region's features need a Polygon or MultiPolygon")
        }
        let geometryPath = path == "the Feature" ? "geometry" : "\(path).geometry"
        return try self.geometry(geometry, type: try type(of: geometry, at: geometryPath), at: geometryPath)
    }

    /// The polygons of a Polygon or MultiPolygon geometry.
    private mutating func geometry(_ value: RegionJSONValue, type: String, at path: String) throws -> [[[GeoPoint]]] {
        let prefix = path == "the region" ? "" : "\(path)."
        switch type {
        case "Polygon":
            return [try polygon(value["coordinates"], at: "\(prefix)coordinates")]
        case "MultiPolygon":
            guard case .array(let members)? = value["coordinates"] else {
                throw ServerError(.invalid, "\(prefix)coordinates: a MultiPolygon needs an array of polygons")
            }
            guard !members.isEmpty else {
                throw ServerError(.invalid, "\(prefix)coordinates: the MultiPolygon has no polygons")
            }
            return try members.enumerated().map { try polygon($0.element, at: "\(prefix)coordinates[\($0.offset)]") }
        case "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection", "Circle":
            throw ServerError(.invalid, "\(path): unsupported geometry type \"\(type)\"; a region is an area: Polygon or MultiPolygon (for a point with a radius, use circle:LAT,LON,RADIUS)")
        default:
            throw ServerError(.invalid, "\(path): unknown GeoJSON type \"\(type)\"; a region is a Polygon, MultiPolygon, Feature or FeatureCollection")
        }
    }

    /// An outer ring and its holes, each ring validated, each hole within the outer ring.
    private mutating func polygon(_ value: RegionJSONValue?, at path: String) throws -> [[GeoPoint]] {
        guard case .array(let ringValues)? = value else {
            throw ServerError(.invalid, "\(path): a polygon needs \"coordinates\": an array of rings, found \(value?.kind ?? "nothing")")
        }
        guard !ringValues.isEmpty else {
            throw ServerError(.invalid, "\(path): the polygon has no rings; it needs at least its outer ring")
        }
        var rings: [[GeoPoint]] = []
        for (index, ringValue) in ringValues.enumerated() {
            let ringPath = "\(path)[\(index)]"
            guard case .array(let positionValues) = ringValue else {
                throw ServerError(.invalid, "\(ringPath): a ring is an array of positions, not \(ringValue.kind)")
            }
            positions += positionValues.count
            guard positions <= Region.maximumPositions else {
                throw ServerError(.invalid, "the region has more than \(Region.maximumPositions) positions; simplify the shape")
            }
            let ring = try positionValues.enumerated().map { try position($0.element, at: "\(ringPath)[\($0.offset)]") }
            try RegionValidation.checkRing(ring, at: ringPath)
            if index > 0 {
                try RegionValidation.checkHole(ring, inside: rings[0], at: ringPath)
            }
            rings.append(ring)
        }
        return rings
    }

    private func position(_ value: RegionJSONValue, at path: String) throws -> GeoPoint {
        guard case .array(let numbers) = value else {
            throw ServerError(.invalid, "\(path): a position is [longitude, latitude], not \(value.kind)")
        }
        guard (2...3).contains(numbers.count) else {
            throw ServerError(.invalid, "\(path): a position is [longitude, latitude] or [longitude, latitude, altitude]; this one has \(numbers.count) values")
        }
        guard case .number(let lon) = numbers[0], case .number(let lat) = numbers[1] else {
            throw ServerError(.invalid, "\(path): a position holds numbers; found \(numbers[0].kind) and \(numbers[1].kind)")
        }
        if numbers.count == 3 {
            guard case .number = numbers[2] else {
                throw ServerError(.invalid, "\(path): the altitude must be a number, not \(numbers[2].kind)")
            }
        }
        try Region.checkPosition(lat: lat, lon: lon, at: path, geoJSON: true)
        return GeoPoint(lat: lat, lon: lon)
    }
}
