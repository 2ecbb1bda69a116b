import PiggybackAgent

/// How a session's outcome reads on a terminal and maps to an exit code.
public enum SessionSummary {
    /// A few lines: server, what came, what went.
    public static func text(_ report: SessionReport) -> String {
        var lines = ["session ok with \(report.server)\(report.serverReason.isEmpty ? "" : " (\(report.serverReason))")\(report.enrolled ? " (enrolled)" : "")"]
        if !report.delivered.isEmpty { lines.append("  received: \(report.delivered.joined(separator: ", "))") }
        if report.downloadedBytes > 0, report.downloadSeconds > 0 {
            let rate = Double(report.downloadedBytes) / report.downloadSeconds / 1_048_576
            lines.append("  downloaded: \(report.downloadedBytes) B in \(String(format: "%.3f", report.downloadSeconds)) s (\(String(format: "%.1f", rate)) MiB/s; \(String(format: "%.3f", report.downloadSyncSeconds)) s of it the final fsync)")
        }
        for line in report.installed { lines.append("  install: \(line)") }
        if !report.deferred.isEmpty { lines.append("  deferred: \(report.deferred.joined(separator: ", "))") }
        if !report.failed.isEmpty { lines.append("  failed: \(report.failed.joined(separator: ", "))") }
        if !report.collected.isEmpty { lines.append("  collected: \(report.collected.count) file(s)") }
        if report.uploadedBytes > 0, report.uploadSeconds > 0 {
            let rate = Double(report.uploadedBytes) / report.uploadSeconds / 1_048_576
            lines.append("  uploaded: \(report.uploadedBytes) B in \(String(format: "%.3f", report.uploadSeconds)) s (\(String(format: "%.1f", rate)) MiB/s)")
        }
        if !report.unchanged.isEmpty { lines.append("  unchanged since last collected: \(report.unchanged.count) file(s)") }
        for problem in report.problems { lines.append("  not collected: \(problem)") }
        lines.append("  telex bytes: \(report.bytesSent) sent, \(report.bytesReceived) received")
        return lines.joined(separator: "\n")
    }

    /// Exit codes: 2 not enrolled, 3 untrusted server, 4 unreachable, 5 refused, 6 storage, 7 timeout.
    public static func exitCode(_ code: AgentError.Code) -> Int32 {
        switch code {
        case .notEnrolled, .identity: 2
        case .untrustedServer: 3
        case .unreachable: 4
        case .refused: 5
        case .storage: 6
        case .timeout: 7
        }
    }
}
