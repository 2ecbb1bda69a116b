/// Which value changes are worth reporting.
///
/// Volatile values (uptime, free space, clock, battery charge) are reported with every
/// full inventory but count as a change only past a threshold, so an idle terminal's delta
/// stays empty.
public struct ChangePolicy: Sendable {
    /// A free-space change counts when it exceeds this fraction of the filesystem's size…
    public var freeSpaceFraction: Double
    /// …or this many bytes, whichever is smaller.
    public var freeSpaceBytes: UInt64
    /// A battery charge change counts past this many percentage points.
    public var batteryPoints: Int

    /// Defaults: 1 % or 1 GiB of free space, 10 battery points; uptime and current clock never.
    public init(freeSpaceFraction: Double = 0.01, freeSpaceBytes: UInt64 = 1 << 30, batteryPoints: Int = 10) {
        self.freeSpaceFraction = freeSpaceFraction
        self.freeSpaceBytes = freeSpaceBytes
        self.batteryPoints = batteryPoints
    }

    /// Whether `old` → `new` for `key` in `section` should be reported; `items` gives context
    /// (the filesystem's total size).
    func isSignificant(section: String, key: String, old: String, new: String, items: [String: String]) -> Bool {
        guard old != new else { return false }
        switch (section, key) {
        case ("os", "uptime_s"), ("cpu", "mhz_current"):
            return false
        case ("filesystems", _) where key.hasSuffix(".free"):
            guard let a = UInt64(old), let b = UInt64(new) else { return true }
            let mount = key.dropLast(".free".count)
            let total = items["\(mount).total"].flatMap(UInt64.init) ?? 0
            let threshold = min(freeSpaceBytes, total > 0 ? UInt64(Double(total) * freeSpaceFraction) : freeSpaceBytes)
            return (a > b ? a - b : b - a) > threshold
        case ("power", _) where key.hasSuffix(".capacity"):
            guard let a = Int(old), let b = Int(new) else { return true }
            return abs(a - b) >= batteryPoints
        default:
            return true
        }
    }
}
