import FluentKit
import Foundation

/// A log rule: a pattern over collected log lines, how many matches within what window
/// raise an alert, its severity, and the package that remedies it.
final class LogRuleRecord: Model, @unchecked Sendable {
    static let schema = "log_rules"

    @ID(key: .id) var id: UUID?
    @Field(key: "name") var name: String
    @Field(key: "pattern") var pattern: String
    @Field(key: "case_insensitive") var caseInsensitive: Bool
    /// Which collected files it reads (``PathGlob``); nil: all.
    @OptionalField(key: "path_glob") var pathGlob: String?
    /// Matches needed to raise an alert.
    @Field(key: "threshold") var threshold: Int
    /// Within how many seconds the `threshold` matches must fall; 0: no window.
    @Field(key: "window_s") var windowSeconds: Int
    /// info, warning or critical.
    @Field(key: "severity") var severity: String
    /// A package assigned to the device when the rule raises an alert there.
    @OptionalField(key: "remedy") var remedy: String?
    @Field(key: "created_at") var createdAt: Date

    init() {}

    init(_ spec: LogRuleSpec) {
        self.name = spec.name
        self.pattern = spec.pattern.source
        self.caseInsensitive = spec.pattern.caseInsensitive
        self.pathGlob = spec.path?.text
        self.threshold = spec.threshold
        self.windowSeconds = spec.windowSeconds
        self.severity = spec.severity.rawValue
        self.remedy = spec.remedy
        self.createdAt = Date()
    }
}

/// An alert: a rule's matches on one device, from the first to the latest, until an
/// administrator acknowledges it (later matches then raise a new one).
final class AlertRecord: Model, @unchecked Sendable {
    static let schema = "alerts"

    enum State: String, Sendable {
        case open
        case acknowledged
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "rule_id") var ruleID: UUID
    /// The rule's name when the alert was raised (alerts outlive their rule).
    @Field(key: "rule_name") var ruleName: String
    @Field(key: "severity") var severity: String
    @Field(key: "state") var state: String
    @Field(key: "count") var count: Int64
    @Field(key: "first_at") var firstAt: Date
    @Field(key: "last_at") var lastAt: Date
    /// JSON array of up to ``AlertCenter/sampleLimit`` matching lines.
    @Field(key: "samples") var samples: String
    /// The collected file (path on the terminal) of the latest match.
    @Field(key: "path") var path: String
    @OptionalField(key: "remedy") var remedy: String?
    @Field(key: "remedy_assigned") var remedyAssigned: Bool
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    @OptionalField(key: "acknowledged_at") var acknowledgedAt: Date?

    init() {}

    init(deviceID: String, rule: LogRuleRecord, ruleID: UUID, path: String) {
        self.deviceID = deviceID
        self.ruleID = ruleID
        self.ruleName = rule.name
        self.severity = rule.severity
        self.state = State.open.rawValue
        self.count = 0
        self.firstAt = Date()
        self.lastAt = Date()
        self.samples = "[]"
        self.path = path
        self.remedy = rule.remedy
        self.remedyAssigned = false
        self.createdAt = Date()
        self.updatedAt = Date()
    }
}

/// Matches of a rule on a device that have not (yet) reached its threshold: their times,
/// so a window spanning two collections still counts.
final class AlertCounterRecord: Model, @unchecked Sendable {
    static let schema = "alert_counters"

    @ID(key: .id) var id: UUID?
    @Field(key: "device_id") var deviceID: String
    @Field(key: "rule_id") var ruleID: UUID
    /// JSON array of ``RuleTracker/Pending``.
    @Field(key: "pending") var pending: String
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(deviceID: String, ruleID: UUID) {
        self.deviceID = deviceID
        self.ruleID = ruleID
        self.pending = "[]"
        self.updatedAt = Date()
    }
}
