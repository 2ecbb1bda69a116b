/// Chooses the regions containing a position among many, fast: build once per catalogue
/// change, then ask per session. With 10,000 regional packages, testing each exactly would
/// cost milliseconds per terminal; the index looks at a handful.
///
/// How: each region's bounding rectangles (degrees; a circle's from its radius, split at
/// the antimeridian, full longitude around a pole) go into a hierarchical grid, at the level
/// whose square cells (360°/2^level wide) are at least as large as the rectangle, so each
/// rectangle lands in at most 4 cells whatever its size: a country and a city block cost
/// the same. A query visits one cell per occupied level, keeps the entries whose rectangle
/// holds the position, and runs the exact `Region.contains` on those only. A region can
/// contain the accuracy disc only if it contains its centre, so the accuracy radius plays
/// no part in choosing candidates.
public struct RegionIndex<ID: Hashable & Sendable>: Sendable {
    /// The finest level: cells of 360°/2^16 ≈ 0.0055° (about 600 m); smaller rectangles go
    /// here too (one cell, or up to 4 on cell edges).
    static var finestLevel: Int { 16 }

    private let ids: [ID]
    private let regions: [Region]
    /// Rectangles with the entry each belongs to.
    private let boxes: [(entry: Int32, box: RegionGeometry.Box)]
    /// Cell key (level, x, y) → indices into `boxes`.
    private let cells: [UInt64: [Int32]]
    /// Levels that hold at least one rectangle, coarsest first.
    private let levels: [Int]

    /// Indexes the entries; entries whose region has no extent (an empty polygon list) or
    /// is not on the planet (NaN, possible only when built by hand) are kept but never match.
    public init(_ entries: [(id: ID, region: Region)]) {
        ids = entries.map(\.id)
        regions = entries.map(\.region)
        var boxes: [(entry: Int32, box: RegionGeometry.Box)] = []
        var cells: [UInt64: [Int32]] = [:]
        var used = Set<Int>()
        for (entry, region) in regions.enumerated() {
            for box in RegionGeometry.boxes(region)
            where [box.minLat, box.maxLat, box.minLon, box.maxLon].allSatisfy(\.isFinite) {
                let boxIndex = Int32(boxes.count)
                boxes.append((Int32(entry), box))
                let level = Self.level(for: box)
                used.insert(level)
                let (x0, y0) = Self.cell(lat: box.minLat, lon: box.minLon, level: level)
                let (x1, y1) = Self.cell(lat: box.maxLat, lon: box.maxLon, level: level)
                for x in x0...x1 {
                    for y in y0...y1 {
                        cells[Self.key(level: level, x: x, y: y), default: []].append(boxIndex)
                    }
                }
            }
        }
        self.boxes = boxes
        self.cells = cells
        levels = used.sorted()
    }

    /// How many regions were indexed.
    public var count: Int { ids.count }

    /// The IDs of the regions that contain the position with its whole accuracy disc (see
    /// `Region.contains`), in the order the entries were given, each once.
    public func matching(lat: Double, lon: Double, accuracyMeters: Double) -> [ID] {
        guard let point = RegionGeometry.normalized(lat: lat, lon: lon) else { return [] }
        var candidates: [Int32] = []
        for level in levels {
            let (x, y) = Self.cell(lat: point.lat, lon: point.lon, level: level)
            guard let boxIndices = cells[Self.key(level: level, x: x, y: y)] else { continue }
            for boxIndex in boxIndices where boxes[Int(boxIndex)].box.contains(point) {
                candidates.append(boxes[Int(boxIndex)].entry)
            }
        }
        candidates.sort()
        var result: [ID] = []
        var previous: Int32 = -1
        for entry in candidates where entry != previous {
            previous = entry
            if regions[Int(entry)].contains(lat: point.lat, lon: point.lon, accuracyMeters: accuracyMeters) {
                result.append(ids[Int(entry)])
            }
        }
        return result
    }

    /// The finest level whose cells are at least as large as the rectangle on both sides.
    static func level(for box: RegionGeometry.Box) -> Int {
        let extent = max(box.maxLat - box.minLat, box.maxLon - box.minLon)
        var level = 0
        while level < finestLevel, 360 / Double(1 << (level + 1)) >= extent { level += 1 }
        return level
    }

    /// The cell holding a position at `level`; positions on the east or north edge of the
    /// world fall in the last cell.
    static func cell(lat: Double, lon: Double, level: Int) -> (x: Int, y: Int) {
        let size = 360 / Double(1 << level)
        let columns = 1 << level
        let rows = max(1, columns / 2)
        let x = min(Double(columns - 1), max(0, ((lon + 180) / size).rounded(.down)))
        let y = min(Double(rows - 1), max(0, ((lat + 90) / size).rounded(.down)))
        return (Int(x), Int(y))
    }

    static func key(level: Int, x: Int, y: Int) -> UInt64 {
        UInt64(level) << 48 | UInt64(x) << 24 | UInt64(y)
    }
}
