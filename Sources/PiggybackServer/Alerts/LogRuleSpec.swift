import Foundation

/// A log rule as an administrator gives it, checked: every field is validated here, so a
/// stored rule always compiles and a bad one is refused with what to change.
struct LogRuleSpec: Sendable {
    /// How urgent an alert of the rule is; receivers route on it.
    enum Severity: String, Sendable, CaseIterable {
        case info
        case warning
        case critical
    }

    var name: String
    var pattern: SafePattern
    var path: PathGlob?
    var threshold: Int
    var windowSeconds: Int
    var severity: Severity
    var remedy: String?

    /// Most matches a rule may require.
    static let maxThreshold = 10_000
    /// Longest window: 30 days.
    static let maxWindowSeconds = 30 * 86400

    init(
        name: String, pattern: String, caseInsensitive: Bool = false, path: String? = nil, threshold: Int = 1,
        windowSeconds: Int = 0, severity: String = Severity.warning.rawValue, remedy: String? = nil
    ) throws {
        guard !name.isEmpty, name.count <= 100,
            name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) })
        else {
            throw ServerError(.invalid, "rule name \"\(name)\": use 1 to 100 letters, digits, '.', '_' or '-'")
        }
        guard !pattern.isEmpty else {
            throw ServerError(.invalid, "rule \(name): the pattern is empty (it would match every line)")
        }
        do {
            self.pattern = try SafePattern(pattern, caseInsensitive: caseInsensitive)
        } catch {
            throw ServerError(.invalid, "rule \(name): \(error) in \(pattern)")
        }
        if let path, !path.isEmpty {
            do {
                self.path = try PathGlob(path)
            } catch {
                throw ServerError(.invalid, "rule \(name): path glob \(path) is not valid: \(error.message)")
            }
        }
        guard (1...Self.maxThreshold).contains(threshold) else {
            throw ServerError(.invalid, "rule \(name): the count must be between 1 and \(Self.maxThreshold), got \(threshold)")
        }
        guard (0...Self.maxWindowSeconds).contains(windowSeconds) else {
            throw ServerError(.invalid, "rule \(name): the window must be between 0 (none) and \(Self.maxWindowSeconds) seconds, got \(windowSeconds)")
        }
        guard let level = Severity(rawValue: severity.lowercased()) else {
            throw ServerError(.invalid, "rule \(name): severity must be info, warning or critical, got \(severity)")
        }
        if let remedy, remedy.isEmpty || remedy.contains("@") {
            throw ServerError(.invalid, "rule \(name): --remedy takes a package name (its newest version is assigned), got \"\(remedy)\"")
        }
        self.name = name
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.severity = level
        self.remedy = remedy
    }

    /// The rule a stored record describes.
    init(_ record: LogRuleRecord) throws {
        try self.init(
            name: record.name, pattern: record.pattern, caseInsensitive: record.caseInsensitive, path: record.pathGlob,
            threshold: record.threshold, windowSeconds: record.windowSeconds, severity: record.severity, remedy: record.remedy
        )
    }
}
