import ArgumentParser
import Foundation

/// A log rule as the API returns it (docs/JSON.md).
struct LogRuleRow: Decodable {
    var name: String
    var pattern: String
    var case_insensitive: Bool
    var path: String?
    var threshold: Int
    var window_s: Int
    var severity: String
    var remedy: String?
}

/// An alert as the API returns it (docs/JSON.md).
struct AlertRow: Decodable {
    var id: String
    var device: String
    var hostname: String
    var rule: String
    var severity: String
    var state: String
    var count: Int64
    var first_at: String
    var last_at: String
    var samples: [String]
    var remedy: String?
    var remedy_assigned: Bool
}

struct LogRuleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-rule", abstract: "Add or remove a log rule: a pattern over collected log lines that raises alerts.",
        subcommands: [Add.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a rule.",
            discussion: """
                The pattern is a regular expression of a safe subset (matching time is bounded): literals, ., [a-z] [^…], \
                \\d \\w \\s \\D \\W \\S \\b, ^ $, ( ) (?: ), |, * + ? {m} {m,} {m,n} (at most 100). No backreferences or \
                lookaround. It matches anywhere in the line unless anchored.
                """)
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Rule name (letters, digits, '.', '_', '-').") var name: String
        @Option(help: "Regular expression matched against each line.") var pattern: String
        @Flag(help: "Match letters regardless of case.") var ignoreCase = false
        @Option(help: "Only collected files whose path matches this glob (*.log, /var/log/**); default all.") var path: String?
        @Option(help: "Matches needed to raise an alert.") var count = 1
        @Option(help: "…within this many seconds (0: no window).") var window = 0
        @Option(help: "info, warning or critical.") var severity = "warning"
        @Option(help: "Package assigned to the device when the rule raises an alert there.") var remedy: String?

        func run() async throws {
            struct Request: Encodable {
                var name: String; var pattern: String; var case_insensitive: Bool; var path: String?
                var threshold: Int; var window_s: Int; var severity: String; var remedy: String?
            }
            let request = Request(
                name: name, pattern: pattern, case_insensitive: ignoreCase, path: path, threshold: count, window_s: window,
                severity: severity, remedy: remedy)
            let data = try await admin.client().send("POST", "/v1/log-rules", json: request)
            if admin.json { return admin.printJSON(data) }
            let rule = try decode(LogRuleRow.self, data)
            print("log rule \(rule.name) added: \(LogRulesCommand.summary(rule))")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a rule (its alerts stay).")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Rule name.") var name: String

        func run() async throws {
            let escaped = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? name
            let data = try await admin.client().send("DELETE", "/v1/log-rules/\(escaped)")
            if admin.json { return admin.printJSON(data) }
            print("log rule \(name) removed")
        }
    }
}

struct LogRulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log-rules", abstract: "List the log rules.")
    @OptionGroup var admin: AdminOptions

    static func summary(_ rule: LogRuleRow) -> String {
        var parts = ["/\(rule.pattern)/\(rule.case_insensitive ? "i" : "")", rule.severity]
        if let path = rule.path { parts.append("in \(path)") }
        if rule.threshold > 1 || rule.window_s > 0 {
            parts.append("\(rule.threshold) matches" + (rule.window_s > 0 ? " within \(rule.window_s) s" : ""))
        }
        if let remedy = rule.remedy { parts.append("remedy \(remedy)") }
        return parts.joined(separator: ", ")
    }

    func run() async throws {
        let data = try await admin.client().send("GET", "/v1/log-rules")
        if admin.json { return admin.printJSON(data) }
        let rules = try decode([LogRuleRow].self, data)
        print(table(["NAME", "SEVERITY", "COUNT", "WINDOW", "PATH", "REMEDY", "PATTERN"], rules.map { rule in
            [rule.name, rule.severity, String(rule.threshold), rule.window_s > 0 ? "\(rule.window_s)s" : "-", rule.path ?? "*",
             rule.remedy ?? "-", "/\(rule.pattern)/\(rule.case_insensitive ? "i" : "")"]
        }))
    }
}

struct AlertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "List alerts raised by log rules, newest first.")
    @OptionGroup var admin: AdminOptions
    @Option(help: "Only this device's alerts.") var device: String?
    @Option(help: "Only open or acknowledged alerts.") var state: String?
    @Flag(help: "Show the sample lines.") var samples = false

    func run() async throws {
        var query: [String: String] = [:]
        if let device { query["device"] = device }
        if let state { query["state"] = state }
        let data = try await admin.client().send("GET", "/v1/alerts", query: query)
        if admin.json { return admin.printJSON(data) }
        let alerts = try decode([AlertRow].self, data)
        print(table(["ID", "DEVICE", "HOSTNAME", "RULE", "SEVERITY", "STATE", "COUNT", "LAST", "REMEDY"], alerts.map { alert in
            [alert.id, alert.device, alert.hostname, alert.rule, alert.severity, alert.state, String(alert.count), alert.last_at,
             alert.remedy.map { "\($0) (\(alert.remedy_assigned ? "assigned" : "not assigned"))" } ?? "-"]
        }))
        guard samples else { return }
        for alert in alerts where !alert.samples.isEmpty {
            print("\n\(alert.id) \(alert.rule) on \(alert.hostname.isEmpty ? alert.device : alert.hostname):")
            for line in alert.samples { print("  \(line)") }
        }
    }
}

struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alert", abstract: "Act on one alert.", subcommands: [Acknowledge.self])

    struct Acknowledge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ack", abstract: "Acknowledge an alert: later matches of its rule raise a new one.")
        @OptionGroup var admin: AdminOptions
        @Argument(help: "Alert id (see `piggyback admin alerts`).") var id: String

        func run() async throws {
            let data = try await admin.client().send("POST", "/v1/alerts/\(id)/acknowledge")
            if admin.json { return admin.printJSON(data) }
            let alert = try decode(AlertRow.self, data)
            print("alert \(alert.id) (\(alert.rule) on \(alert.hostname.isEmpty ? alert.device : alert.hostname)) is \(alert.state)")
        }
    }
}
