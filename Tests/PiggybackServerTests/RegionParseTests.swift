import Foundation
@testable import PiggybackServer
import Testing

/// What an administrator may type as a package's region, what is refused and with which
/// message, and the canonical JSON the catalogue stores.
@Suite struct RegionParseTests {
    static let square = "[[139,35],[140,35],[140,36],[139,36],[139,35]]"
    static let hole = "[[139.4,35.4],[139.4,35.6],[139.6,35.6],[139.6,35.4],[139.4,35.4]]"
    static let osaka = "[[135,34],[136,34],[136,35],[135,35],[135,34]]"

    /// The message `Region.parse` throws for `text`, or nil if it parsed.
    func message(_ text: String) -> String? {
        do {
            _ = try Region.parse(text)
            return nil
        } catch let error as ServerError {
            #expect(error.code == .invalid)
            return error.message
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test(arguments: [
        ("circle:35.68,139.77,5km", Region.circle(lat: 35.68, lon: 139.77, radiusMeters: 5000)),
        ("  CIRCLE: 35.68 , 139.77 , 800 m\n", .circle(lat: 35.68, lon: 139.77, radiusMeters: 800)),
        ("circle:-33.9,151.2,1500", .circle(lat: -33.9, lon: 151.2, radiusMeters: 1500)),
        ("circle:0,-180,2.5KM", .circle(lat: 0, lon: -180, radiusMeters: 2500)),
    ])
    func circles(text: String, expected: Region) throws {
        #expect(try Region.parse(text) == expected)
    }

    @Test func geoJSONShapes() throws {
        let tokyo = [[GeoPoint(lat: 35, lon: 139), .init(lat: 35, lon: 140), .init(lat: 36, lon: 140), .init(lat: 36, lon: 139), .init(lat: 35, lon: 139)]]
        let polygon = try Region.parse("{\"type\":\"Polygon\",\"coordinates\":[\(Self.square)]}")
        #expect(polygon == .polygons([tokyo]))

        let pretty = """
            {
              "type": "Feature",
              "properties": {"name": "Tokyo"},
              "geometry": {
                "type": "Polygon",
                "coordinates": [\(Self.square), \(Self.hole)]
              }
            }
            """
        guard case .polygons(let withHole) = try Region.parse(pretty) else { Issue.record("not polygons"); return }
        #expect(withHole.count == 1 && withHole[0].count == 2)

        let multi = try Region.parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[\(Self.square)],[\(Self.osaka)]]}")
        guard case .polygons(let two) = multi else { Issue.record("not polygons"); return }
        #expect(two.count == 2 && two[0] == tokyo)

        let collection = try Region.parse("""
            {"type":"FeatureCollection","features":[
              {"type":"Feature","properties":null,"geometry":{"type":"Polygon","coordinates":[\(Self.square)]}},
              {"type":"Feature","properties":{},"geometry":{"type":"MultiPolygon","coordinates":[[\(Self.osaka)],[\(Self.square),\(Self.hole)]]}}
            ]}
            """)
        guard case .polygons(let three) = collection else { Issue.record("not polygons"); return }
        #expect(three.count == 3 && three[2].count == 2)

        // Altitude is accepted and dropped.
        let withAltitude = try Region.parse("{\"type\":\"Polygon\",\"coordinates\":[[[139,35,10],[140,35,10],[140,36,12],[139,36,0],[139,35,10]]]}")
        #expect(withAltitude == polygon)
    }

    @Test(arguments: [
        ("", "the region is empty"),
        ("hello", "'hello' is not a region; give circle:LAT,LON,RADIUS"),
        ("circle:35.68,139.77", "circle:35.68,139.77 has 2 values; a circle is circle:LAT,LON,RADIUS"),
        ("circle:abc,139.77,5km", "latitude 'abc' is not a number"),
        ("circle:nan,139.77,5km", "latitude 'nan' is not a finite number"),
        ("circle:35.68,inf,5km", "longitude 'inf' is not a finite number"),
        ("circle:95,139.77,5km", "circle centre: latitude 95.0 is out of range -90…90"),
        ("circle:35.68,200,5km", "circle centre: longitude 200.0 is out of range -180…180"),
        ("circle:35.68,139.77,0", "circle radius 0.0 m must be greater than 0"),
        ("circle:35.68,139.77,-5km", "circle radius -5000.0 m must be greater than 0"),
        ("circle:35.68,139.77,nanm", "radius 'nanm' is not a finite number"),
        ("circle:35.68,139.77,5 miles", "radius '5 miles' is not a number"),
        ("circle:35.68,139.77,30000km", "covers the whole planet"),
        ("[[139,35],[140,35]]", "not a bare array"),
        ("{\"type\": \"Polygon\",\n \"coordinates\": [[1,2],,]}", "bad JSON at line 2, column 24: expected a value (object, array, string, number, true, false or null); found ','"),
        ("{\"type\":\"Polygon\",\"coordinates\":[\(RegionParseTests.square)]", "bad JSON at line 1, column 81: expected ',' or '}'; found the end of the text"),
        ("{\"type\":\"Polygon\",\"type\":\"Polygon\"}", "bad JSON at line 1, column 19: duplicate member \"type\""),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[1e999,35]]]}", "number 1e999 is out of range"),
        ("{\"coordinates\":[]}", "the region has no \"type\""),
        ("{\"type\":\"Point\",\"coordinates\":[139.7,35.6]}", "the region: unsupported geometry type \"Point\"; a region is an area"),
        ("{\"type\":\"Polygn\",\"coordinates\":[]}", "unknown GeoJSON type \"Polygn\""),
        ("{\"type\":\"Polygon\",\"coordinates\":[]}", "coordinates: the polygon has no rings"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[140,35],[139,35]]]}", "coordinates[0]: the ring has 3 positions; a closed ring needs at least 4"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[140,35],[140,36],[139,36]]]}", "coordinates[0]: the ring is not closed: it starts at [139, 35] and ends at [139, 36]; repeat the first position"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[35,139],[35,140],[36,140],[35,139]]]}", "coordinates[0][0]: latitude 139.0 is out of range -90…90 (GeoJSON positions are [longitude, latitude]; are they swapped?)"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[true,35],[140,36],[139,35]]]}", "coordinates[0][1]: a position holds numbers; found a boolean and a number"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139],[140,35],[140,36],[139,35]]]}", "coordinates[0][0]: a position is [longitude, latitude] or [longitude, latitude, altitude]; this one has 1 values"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[141,36],[141,35],[139,36.5],[139,35]]]}", "coordinates[0]: the ring intersects itself: edge [139, 35]→[141, 36] meets edge [141, 35]→[139, 36.5]"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[140,35],[141,35],[139,35]]]}", "coordinates[0]: the ring has no area"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[139,35],[140,35],[140,35],[139,35]]]}", "coordinates[0]: the ring has only 2 distinct positions"),
        ("{\"type\":\"Polygon\",\"coordinates\":[[[170,-20],[-170,-20],[-170,-10],[170,-10],[170,-20]]]}", "coordinates[0]: the edge [170, -20]→[-170, -20] spans more than 180° of longitude; a polygon crossing the antimeridian must be split"),
        ("{\"type\":\"Polygon\",\"coordinates\":[\(RegionParseTests.square),\(RegionParseTests.osaka)]}", "coordinates[1]: the hole lies outside the polygon's outer ring"),
        ("{\"type\":\"MultiPolygon\",\"coordinates\":[[\(RegionParseTests.square)],[[[135,34],[136,34],[136,35],[135,34.5]]]]}", "coordinates[1][0]: the ring is not closed"),
        ("{\"type\":\"Feature\",\"geometry\":null}", "the Feature has no geometry"),
        ("{\"type\":\"FeatureCollection\",\"features\":[]}", "the FeatureCollection has no features"),
        ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[\(RegionParseTests.square)]}},{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}]}", "features[1].geometry: unsupported geometry type \"Point\""),
        ("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Polygon\",\"coordinates\":[\(RegionParseTests.square)]}]}", "features[0]: a FeatureCollection holds Features, not Polygon"),
        ("{\"type\":\"Circle\",\"coordinates\":[139.77,35.68],\"radius\":0}", "circle radius 0.0 m must be greater than 0"),
    ])
    func refusals(text: String, expected: String) {
        let message = message(text)
        #expect(message?.contains(expected) == true, "got: \(message ?? "parsed")")
    }

    @Test func tooManyPositions() {
        var ring = (0..<Region.maximumPositions).map { index -> String in
            let angle = Double(index) / Double(Region.maximumPositions) * 6.283
            return "[\(139 + 0.5 * cos(angle)),\(35 + 0.5 * sin(angle))]"
        }
        ring.append(ring[0])
        let message = message("{\"type\":\"Polygon\",\"coordinates\":[[\(ring.joined(separator: ","))]]}")
        #expect(message == "the region has more than \(Region.maximumPositions) positions; simplify the shape")
    }

    @Test func canonicalJSONRoundTrip() throws {
        let circle = try Region.parse("circle:35.68,139.77,5km")
        #expect(circle.json == "{\"type\":\"Circle\",\"coordinates\":[139.77,35.68],\"radius\":5000}")
        let polygon = try Region.parse("{ \"type\" : \"Polygon\",\n \"coordinates\" : [\(Self.square), \(Self.hole)] }")
        #expect(polygon.json == "{\"type\":\"Polygon\",\"coordinates\":[\(Self.square),\(Self.hole)]}")
        let regions = [
            circle, polygon,
            .circle(lat: -0.0, lon: 1e-7, radiusMeters: 0.1 + 0.2),
            try Region.parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[\(Self.square)],[\(Self.osaka)]]}"),
            try Region.parse("{\"type\":\"Polygon\",\"coordinates\":[[[139.123456789012,35.1],[139.9,35.000000001],[139.5,35.7],[139.123456789012,35.1]]]}"),
        ]
        for region in regions {
            let back = try Region(json: region.json)
            #expect(back == region, "\(region.json)")
            #expect(back.json == region.json)
        }
        #expect(throws: ServerError.self) { try Region(json: "circle:35.68,139.77,5km") }
        #expect(throws: ServerError.self) { try Region(json: "{\"type\":\"Circle\",\"coordinates\":[139.77,95],\"radius\":5}") }
    }

    @Test func summaries() throws {
        #expect(try Region.parse("circle:35.68,139.77,5km").summary == "circle 35.68,139.77 r=5 km")
        #expect(try Region.parse("circle:35.6812,139.7671,1500").summary == "circle 35.6812,139.7671 r=1.5 km")
        #expect(try Region.parse("circle:-33.9,151.2,800").summary == "circle -33.9,151.2 r=800 m")
        #expect(try Region.parse("{\"type\":\"Polygon\",\"coordinates\":[\(Self.square)]}").summary == "polygon (4 points) around 35.5,139.5")
        #expect(try Region.parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[\(Self.square),\(Self.hole)],[\(Self.osaka)]]}").summary
            == "2 polygons (12 points, 1 hole) around 35,137.5")
    }
}
