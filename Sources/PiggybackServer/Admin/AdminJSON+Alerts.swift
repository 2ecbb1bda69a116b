import Foundation
import Hummingbird

extension AdminJSON {
    /// A log rule (`GET /v1/log-rules`, and the answer to adding or removing one).
    struct LogRule: ResponseCodable {
        var id: String
        var name: String
        var pattern: String
        var case_insensitive: Bool
        /// Glob selecting the collected files read; null: all.
        var path: String?
        /// Matches needed to raise an alert…
        var threshold: Int
        /// …within this many seconds (0: no window).
        var window_s: Int
        var severity: String
        /// Package assigned to the device when an alert is raised; null: none.
        var remedy: String?
        var created_at: String
    }

    /// `POST /v1/log-rules`.
    struct LogRuleRequest: Codable, Sendable {
        var name: String
        var pattern: String
        var case_insensitive: Bool?
        var path: String?
        var threshold: Int?
        var window_s: Int?
        var severity: String?
        var remedy: String?
    }

    /// An alert (`GET /v1/alerts`, acknowledgement, and inside webhook events).
    struct Alert: ResponseCodable {
        var id: String
        var device: String
        var hostname: String
        var rule: String
        var severity: String
        /// open or acknowledged.
        var state: String
        /// Matching lines so far.
        var count: Int64
        var first_at: String
        var last_at: String
        /// Up to 10 matching lines (the first ones), each at most 500 characters.
        var samples: [String]
        /// The collected file (path on the terminal) of the latest match.
        var path: String
        var remedy: String?
        var remedy_assigned: Bool
        var acknowledged_at: String?
    }

    /// The body of a webhook POST.
    struct AlertEvent: Codable, Sendable {
        enum Kind: String, Codable, Sendable {
            case raised = "alert.raised"
            case updated = "alert.updated"
        }

        var event: Kind
        var server_id: String
        var alert: Alert

        init(event: Kind, serverID: String, alert: Alert) {
            self.event = event
            self.server_id = serverID
            self.alert = alert
        }
    }
}

extension LogRuleRecord {
    var json: AdminJSON.LogRule {
        AdminJSON.LogRule(
            id: id?.uuidString.lowercased() ?? "", name: name, pattern: pattern, case_insensitive: caseInsensitive, path: pathGlob,
            threshold: threshold, window_s: windowSeconds, severity: severity, remedy: remedy, created_at: AdminJSON.time(createdAt) ?? ""
        )
    }
}

extension AlertRecord {
    func json(hostname: String) -> AdminJSON.Alert {
        AdminJSON.Alert(
            id: id?.uuidString.lowercased() ?? "", device: deviceID, hostname: hostname, rule: ruleName, severity: severity, state: state,
            count: count, first_at: AdminJSON.time(firstAt) ?? "", last_at: AdminJSON.time(lastAt) ?? "",
            samples: (try? JSONDecoder().decode([String].self, from: Data(samples.utf8))) ?? [], path: path, remedy: remedy,
            remedy_assigned: remedyAssigned, acknowledged_at: AdminJSON.time(acknowledgedAt)
        )
    }
}
