import Foundation

/// The time written at the start of a log line, so a rule's window ("5 matches within
/// 60 s") counts when things happened on the terminal, not when the log arrived.
///
/// Recognised, after an optional RFC 5424 prefix (`<34>1 `) or `[`:
/// - RFC 3339 / ISO 8601: `2024-05-01T12:00:00`, a space instead of `T`, optional fraction
///   (`.123` or `,123`) and zone (`Z`, `+02:00`, `+0200`); no zone means UTC;
/// - BSD syslog: `May  1 12:00:00` (UTC; the year that puts it at most a day after `reference`).
///
/// Lines without a recognised time count at the time of analysis.
enum LogTimestamp {
    /// Seconds since 1970 of the line's leading time, or nil.
    static func parse(_ line: UnsafeBufferPointer<UInt8>, reference: Date) -> Double? {
        var cursor = Cursor(bytes: line)
        if cursor.peek == UInt8(ascii: "<") {
            cursor.index += 1
            guard cursor.digits(max: 3) != nil, cursor.take(UInt8(ascii: ">")) else { return nil }
            if cursor.peek == UInt8(ascii: "1"), cursor.peek(1) == UInt8(ascii: " ") { cursor.index += 2 }
        } else if cursor.peek == UInt8(ascii: "[") {
            cursor.index += 1
        }
        if let value = iso(&cursor) { return value }
        return bsd(&cursor, reference: reference)
    }

    static func iso(_ cursor: inout Cursor) -> Double? {
        let start = cursor.index
        guard let year = cursor.digits(exactly: 4), cursor.take(UInt8(ascii: "-")),
            let month = cursor.digits(exactly: 2), cursor.take(UInt8(ascii: "-")),
            let day = cursor.digits(exactly: 2),
            cursor.take(UInt8(ascii: "T")) || cursor.take(UInt8(ascii: " ")) || cursor.take(UInt8(ascii: "t")),
            let (hour, minute, second) = clock(&cursor)
        else {
            cursor.index = start
            return nil
        }
        var fraction = 0.0
        if cursor.take(UInt8(ascii: ".")) || cursor.take(UInt8(ascii: ",")) {
            var scale = 0.1
            while let digit = cursor.digit() {
                fraction += Double(digit) * scale
                scale /= 10
            }
        }
        var offset = 0
        if cursor.take(UInt8(ascii: "Z")) || cursor.take(UInt8(ascii: "z")) {
            offset = 0
        } else if let sign = cursor.peek, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            let save = cursor.index
            cursor.index += 1
            if let hours = cursor.digits(exactly: 2) {
                _ = cursor.take(UInt8(ascii: ":"))
                let minutes = cursor.digits(exactly: 2) ?? 0
                offset = (hours * 3600 + minutes * 60) * (sign == UInt8(ascii: "+") ? 1 : -1)
            } else {
                cursor.index = save
            }
        }
        guard let seconds = epoch(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else { return nil }
        return Double(seconds - offset) + fraction
    }

    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    static func bsd(_ cursor: inout Cursor, reference: Date) -> Double? {
        guard cursor.index + 3 <= cursor.bytes.count else { return nil }
        let name = String(decoding: cursor.bytes[cursor.index..<cursor.index + 3], as: UTF8.self).lowercased()
        guard let month = months.firstIndex(of: name).map({ $0 + 1 }) else { return nil }
        cursor.index += 3
        guard cursor.take(UInt8(ascii: " ")) else { return nil }
        _ = cursor.take(UInt8(ascii: " "))
        guard let day = cursor.digits(max: 2), cursor.take(UInt8(ascii: " ")), let (hour, minute, second) = clock(&cursor) else { return nil }
        let now = reference.timeIntervalSince1970
        let year = civil(days: Int((now / 86400).rounded(.down))).year
        for candidate in [year, year - 1] {
            if let seconds = epoch(year: candidate, month: month, day: day, hour: hour, minute: minute, second: second),
                Double(seconds) <= now + 86400
            {
                return Double(seconds)
            }
        }
        return nil
    }

    static func clock(_ cursor: inout Cursor) -> (Int, Int, Int)? {
        guard let hour = cursor.digits(exactly: 2), cursor.take(UInt8(ascii: ":")), let minute = cursor.digits(exactly: 2),
            cursor.take(UInt8(ascii: ":")), let second = cursor.digits(exactly: 2)
        else { return nil }
        return (hour, minute, second)
    }

    /// Seconds since 1970 (UTC) of a calendar date, or nil when a field is out of range.
    static func epoch(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
        return days(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The year of a day count since 1970.
    static func civil(days: Int) -> (year: Int, month: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month)
    }

    /// A read position in a line.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
        func peek(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard let byte = peek, byte &- 48 < 10 else { return nil }
            index += 1
            return Int(byte - 48)
        }

        mutating func digits(exactly count: Int) -> Int? {
            let start = index
            var value = 0
            for _ in 0..<count {
                guard let digit = digit() else { index = start; return nil }
                value = value * 10 + digit
            }
            return value
        }

        mutating func digits(max count: Int) -> Int? {
            var value = 0
            var taken = 0
            while taken < count, let digit = digit() {
                value = value * 10 + digit
                taken += 1
            }
            return taken > 0 ? value : nil
        }
    }
}
