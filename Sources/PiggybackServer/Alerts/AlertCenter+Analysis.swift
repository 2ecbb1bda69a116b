import FluentKit
import Foundation
import NIOPosix

extension AlertCenter {
    /// What one analysis did.
    struct Analysis: Sendable {
        /// Lines read (0 when no rule selects the file).
        var lines = 0
        var bytes: Int64 = 0
        /// Matching lines per rule name.
        var matches: [String: Int] = [:]
        /// Alerts raised by this file.
        var raised: [UUID] = []
        /// Open alerts this file added matches to.
        var updated: [UUID] = []
    }

    /// The session's hook: analyses a file just stored and indexed. Never fails the upload:
    /// problems are logged. A file this device sent before (same content) is not analysed
    /// again, so a standing order without `--since-last` does not count lines twice. A log
    /// segment (`segmentOffset`) is the same only at the same place of the same log: equal
    /// lines appended twice are two segments, both analysed.
    func analyzeCollected(deviceID: String, path: String, sha256: String, segmentOffset: Int64? = nil) async {
        do {
            var query = CollectedFileRecord.query(on: store.db).filter(\.$deviceID == deviceID).filter(\.$sha256 == sha256)
            if let segmentOffset {
                query = query.filter(\.$path == path).filter(\.$segmentFlag == true).filter(\.$streamOffsetValue == segmentOffset)
            }
            let copies = try await query.count()
            guard copies <= 1 else {
                logger.debug("collected file already analysed", metadata: ["device": "\(deviceID)", "path": "\(path)"])
                return
            }
            let result = try await analyze(deviceID: deviceID, path: path, file: blobs.url(sha256: sha256))
            if !result.raised.isEmpty || !result.updated.isEmpty {
                logger.info("log analysis", metadata: [
                    "device": "\(deviceID)", "path": "\(path)", "lines": "\(result.lines)",
                    "raised": "\(result.raised.count)", "updated": "\(result.updated.count)",
                ])
            }
        } catch {
            logger.warning("log analysis failed", metadata: ["device": "\(deviceID)", "path": "\(path)", "error": "\(error)"])
        }
    }

    /// Reads `file` (collected from `deviceID`, at `path` on the terminal) line by line
    /// against every rule whose glob selects `path`; raises and updates alerts, assigns
    /// remedies and queues webhooks. The scan runs on the blocking thread pool.
    func analyze(deviceID: String, path: String, file: URL) async throws -> Analysis {
        var selected: [(record: LogRuleRecord, id: UUID, spec: LogRuleSpec)] = []
        for record in try await self.rules() {
            guard let id = record.id else { continue }
            do {
                let spec = try LogRuleSpec(record)
                if spec.path?.matches(path) ?? true { selected.append((record, id, spec)) }
            } catch {
                logger.warning("stored log rule does not compile; skipped", metadata: ["rule": "\(record.name)", "error": "\(error)"])
            }
        }
        let rules = selected
        guard !rules.isEmpty else { return Analysis() }
        let ids = rules.map(\.id)
        let open = try await AlertRecord.query(on: store.db).filter(\.$deviceID == deviceID)
            .filter(\.$state == AlertRecord.State.open.rawValue).filter(\.$ruleID ~~ ids).sort(\.$createdAt).all()
        let openByRule = Dictionary(open.map { ($0.ruleID, $0) }, uniquingKeysWith: { _, newest in newest })
        let counters = try await AlertCounterRecord.query(on: store.db).filter(\.$deviceID == deviceID).filter(\.$ruleID ~~ ids).all()
        let counterByRule = Dictionary(counters.map { ($0.ruleID, $0) }, uniquingKeysWith: { a, _ in a })
        let decoder = JSONDecoder()
        let trackers = rules.map { rule in
            RuleTracker(
                threshold: rule.spec.threshold, window: Double(rule.spec.windowSeconds),
                pending: counterByRule[rule.id].flatMap { try? decoder.decode([RuleTracker.Pending].self, from: Data($0.pending.utf8)) } ?? [],
                open: openByRule[rule.id].map { alert in
                    RuleTracker.Open(
                        first: alert.firstAt.timeIntervalSince1970, last: alert.lastAt.timeIntervalSince1970, count: alert.count,
                        samples: (try? decoder.decode([String].self, from: Data(alert.samples.utf8))) ?? []
                    )
                }
            )
        }
        let patterns = rules.map(\.spec.pattern)
        let now = Date()
        let (scanned, summary, counts) = try await NIOThreadPool.singleton.runIfActive {
            try Self.scan(file: file, patterns: patterns, trackers: trackers, now: now)
        }
        var analysis = Analysis(lines: summary.lines, bytes: summary.bytes)
        for (index, rule) in rules.enumerated() where counts[index] > 0 { analysis.matches[rule.spec.name] = counts[index] }

        let touched: [(alert: AlertRecord, raised: Bool)] = try await store.db.transaction { db in
            let encoder = JSONEncoder()
            var touched: [(alert: AlertRecord, raised: Bool)] = []
            for (index, tracker) in scanned.enumerated() {
                let rule = rules[index]
                if let state = tracker.open, state.changed {
                    let alert = openByRule[rule.id] ?? AlertRecord(deviceID: deviceID, rule: rule.record, ruleID: rule.id, path: path)
                    alert.count = state.count
                    alert.firstAt = Date(timeIntervalSince1970: state.first)
                    alert.lastAt = Date(timeIntervalSince1970: state.last)
                    alert.samples = String(decoding: try encoder.encode(state.samples), as: UTF8.self)
                    alert.path = path
                    alert.updatedAt = now
                    try await alert.save(on: db)
                    touched.append((alert, state.raised))
                }
                guard tracker.pendingChanged else { continue }
                if tracker.pending.isEmpty {
                    try await counterByRule[rule.id]?.delete(on: db)
                } else {
                    let counter = counterByRule[rule.id] ?? AlertCounterRecord(deviceID: deviceID, ruleID: rule.id)
                    counter.pending = String(decoding: try encoder.encode(tracker.pending), as: UTF8.self)
                    counter.updatedAt = now
                    try await counter.save(on: db)
                }
            }
            return touched
        }
        for (alert, raised) in touched {
            let id = try alert.requireID()
            if raised {
                analysis.raised.append(id)
                metrics.add(ServerMetrics.Name.alertsRaised, 1, [("severity", alert.severity)])
                logger.notice("alert raised", metadata: [
                    "alert": "\(id)", "rule": "\(alert.ruleName)", "device": "\(deviceID)", "severity": "\(alert.severity)", "count": "\(alert.count)",
                ])
            } else {
                analysis.updated.append(id)
            }
            if alert.remedy != nil, !alert.remedyAssigned { await assignRemedy(alert) }
        }
        if !touched.isEmpty {
            let hostname = try await hostnames([deviceID])[deviceID] ?? ""
            for (alert, raised) in touched {
                await webhooks.submit(AdminJSON.AlertEvent(event: raised ? .raised : .updated, serverID: serverID, alert: alert.json(hostname: hostname)))
            }
        }
        return analysis
    }

    /// The scan itself, off the event loops: lines through the patterns, matches into the trackers.
    static func scan(
        file: URL, patterns: [SafePattern], trackers: [RuleTracker], now: Date
    ) throws -> ([RuleTracker], LogLineReader.Summary, [Int]) {
        var trackers = trackers
        var counts = Array(repeating: 0, count: patterns.count)
        let scanner = LogScanner(patterns: patterns)
        let fallback = now.timeIntervalSince1970
        let summary = try scanner.scan(file: file) { index, line in
            counts[index] += 1
            let time = LogTimestamp.parse(line, reference: now) ?? fallback
            trackers[index].record(time: time) { sample(line) }
        }
        return (trackers, summary, counts)
    }

    /// A line as kept in an alert: decoded leniently, at most ``sampleLength`` characters.
    static func sample(_ line: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: line.prefix(sampleLength * 4), as: UTF8.self)
        return text.count > sampleLength ? String(text.prefix(sampleLength)) + "…" : text
    }

    /// Assigns the alert's remedy package (newest version) to its device, once; a missing
    /// package is logged and tried again at the alert's next match.
    func assignRemedy(_ alert: AlertRecord) async {
        guard let name = alert.remedy else { return }
        do {
            let package = try await catalog.package(name: name, version: nil)
            _ = try await catalog.assign(package: package, deviceID: alert.deviceID, label: nil)
            alert.remedyAssigned = true
            try await alert.save(on: store.db)
            logger.notice("remedy assigned", metadata: [
                "alert": "\(alert.id?.uuidString ?? "")", "device": "\(alert.deviceID)", "package": "\(package.name)@\(package.version)",
            ])
        } catch {
            logger.warning("cannot assign the remedy", metadata: ["device": "\(alert.deviceID)", "package": "\(name)", "error": "\(error)"])
        }
    }
}
