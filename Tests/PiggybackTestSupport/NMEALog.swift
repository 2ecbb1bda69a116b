import Foundation

/// NMEA 0183 text for `gpsfake`: a stationary receiver with a chosen position and HDOP, so a
/// test knows exactly what gpsd must report (position, and an accuracy derived from HDOP).
public enum NMEALog {
    /// `$<body>*<XOR checksum>\r\n`: gpsd drops sentences whose checksum does not match.
    public static func sentence(_ body: String) -> String {
        let checksum = body.utf8.reduce(UInt8(0)) { $0 ^ $1 }
        return "$" + body + "*" + String(format: "%02X", checksum) + "\r\n"
    }

    /// Degrees as NMEA `ddmm.mmmm` (latitude) or `dddmm.mmmm` (longitude) plus hemisphere.
    ///
    /// Four decimals of minutes are about 0.2 m, well inside the 1e-5° tests compare to.
    public static func coordinate(_ degrees: Double, latitude: Bool) -> String {
        let whole = Int(abs(degrees))
        let minutes = (abs(degrees) - Double(whole)) * 60
        let hemisphere = latitude ? (degrees < 0 ? "S" : "N") : (degrees < 0 ? "W" : "E")
        return String(format: latitude ? "%02d%07.4f" : "%03d%07.4f", whole, minutes) + "," + hemisphere
    }

    /// `seconds` one-second cycles of a stationary 3D fix stamped with today's UTC date:
    /// RMC (position, date), GGA (fix quality, HDOP), GSA (3D, DOPs). gpsfake loops over it.
    public static func stationary(lat: Double, lon: Double, hdop: Double, seconds: Int = 5, date: Date = Date()) -> String {
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(secondsFromGMT: 0) ?? utc.timeZone
        let parts = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        let day = String(format: "%02d%02d%02d", parts.day ?? 1, parts.month ?? 1, (parts.year ?? 2000) % 100)
        let position = coordinate(lat, latitude: true) + "," + coordinate(lon, latitude: false)
        let dop = String(format: "%.1f", hdop)
        var text = ""
        for second in 0..<max(seconds, 1) {
            let time = String(format: "%02d%02d%02d.00", parts.hour ?? 0, parts.minute ?? 0, second % 60)
            text += sentence("GPRMC,\(time),A,\(position),000.0,000.0,\(day),,,A")
            text += sentence("GPGGA,\(time),\(position),1,08,\(dop),545.4,M,46.9,M,,")
            text += sentence("GPGSA,A,3,04,05,09,12,24,26,29,31,,,,,1.8,\(dop),1.0")
        }
        return text
    }

    /// The horizontal error gpsd 3.22 reports (`eph`) for a fix with this HDOP: HDOP × 19 m
    /// (twice its assumed 9.5 m range error). Compare with a tolerance for rounding.
    public static func gpsdAccuracyMeters(hdop: Double) -> Double {
        (hdop * 10).rounded() / 10 * 19
    }
}
