import Foundation

/// The words of the question, the same in the notification, on the terminal and in
/// `piggyback agent consent`.
public enum ConsentText {
    /// Sizes in binary units: `812 B`, `1.2 KiB`, `120.5 MiB`.
    public static func size(_ bytes: UInt64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes)
        for unit in ["KiB", "MiB", "GiB", "TiB"] {
            value /= 1024
            if value < 1024 || unit == "TiB" {
                let tenths = Int((value * 10).rounded())
                return "\(tenths / 10).\(tenths % 10) \(unit)"
            }
        }
        return "\(bytes) B"
    }

    /// `Download 2 packages (121.3 MiB)?`
    public static func title(_ items: [ConsentItem]) -> String {
        let total = items.reduce(UInt64(0)) { $0 &+ $1.size }
        return "Download \(items.count) package\(items.count == 1 ? "" : "s") (\(size(total)))?"
    }

    /// One line per item: `curl 8.5.0, 1.2 MiB: software.curl < 8.5`.
    public static func line(_ item: ConsentItem) -> String {
        "\(item.name) \(item.version), \(size(item.size))\(item.reason.isEmpty ? "" : ": \(item.reason)")"
    }

    /// The notification's body: the first `limit` items, then how many more.
    public static func body(_ items: [ConsentItem], limit: Int = 5) -> String {
        var lines = items.prefix(limit).map(line)
        if items.count > limit { lines.append("and \(items.count - limit) more") }
        lines.append("Later keeps them for the next connection.")
        return lines.joined(separator: "\n")
    }

    /// Escapes the characters notification servers with body markup would interpret.
    static func escapeMarkup(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
