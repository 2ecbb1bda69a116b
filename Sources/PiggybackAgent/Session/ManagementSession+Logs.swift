import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

extension ManagementSession {
    /// Growing logs: for each log the order names, only what was appended since the last
    /// stored segment travels, following rotations (see `LogTail`). A cursor moves only
    /// when the server has stored the segment; an interrupted segment is sent again with
    /// the same bytes next session, so the server resumes its partial.
    mutating func collectLogs(_ order: WireCollectOrder, problems: inout [WireCollectProblem]) async throws -> UInt32 {
        let scanner = CollectionScanner(roots: configuration.collectRoots)
        let limit = order.maxBytes > 0 ? order.maxBytes : configuration.defaultMaxCollectBytes
        var files: UInt32 = 0
        for pattern in order.paths {
            let (matches, found) = scanner.scan(pattern)
            problems += found.map { problem($0.0, $0.1) }
            let names = Set(matches.map(\.path))
            for match in matches {
                // `syslog*` also matches the rotations; they are followed from the live log.
                if names.contains(where: { $0 != match.path && (match.path.hasPrefix($0 + ".") || match.path.hasPrefix($0 + "-")) }) { continue }
                let cursor = try await registry.logCursor(orderID: order.orderID, source: match.path)
                let plan: (segments: [LogSegment], notes: [String])
                do {
                    plan = try LogTail(path: match.path, resolved: match.resolved, scratchDirectory: spoolDirectory).plan(after: cursor)
                } catch {
                    problems.append(problem(match.path, "\(error)"))
                    continue
                }
                problems += plan.notes.map { problem(match.path, $0) }
                var sent = false
                for (index, segment) in plan.segments.enumerated() {
                    guard let reason = try await send(segment, orderID: order.orderID, limit: limit, problems: &problems) else {
                        sent = true
                        let laterUse = plan.segments[(index + 1)...].contains { $0.file == segment.file }
                        if segment.scratch && !laterUse { try? FileManager.default.removeItem(at: segment.file) }
                        continue
                    }
                    problems.append(problem(match.path, reason))
                    break  // later segments wait: the stream is sent in order
                }
                if sent {
                    files += 1
                    report.collected.append(match.path)
                }
            }
        }
        return files
    }

    /// Sends one segment and moves the cursor; nil when stored, else why not. `pending` is
    /// the cursor saved before sending (default: this range of this file, re-sent as is).
    mutating func send(_ segment: LogSegment, orderID: String, limit: UInt64, problems: inout [WireCollectProblem], pending given: LogCursor? = nil) async throws -> String? {
        var start = segment.start
        if segment.count > limit {
            start = segment.start + segment.count - limit
            problems.append(problem(segment.source, "\(segment.count) new bytes are above the order's limit of \(limit); sent only the last \(limit)"))
        }
        let descriptor = open(segment.file.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "cannot open: \(String(cString: strerror(errno)))" }
        defer { close(descriptor) }
        // Remember the range before sending: a cut upload is re-sent with the same bytes.
        var pending = given ?? segment.cursorAfter
        if given == nil {
            pending.offset = start
            pending.pendingEnd = segment.start + segment.count
            pending.fingerprint = (try? LogFileInfo.fingerprint(of: segment.file, count: min(start, LogCursor.fingerprintBytes))) ?? ""
        }
        try await registry.saveLogCursor(pending)
        let count = segment.start + segment.count - start
        let digest: String
        do {
            digest = try await FileDigest.sha256Idle(descriptor: descriptor, from: start, count: count, strict: configuration.throttle.enabled)
        } catch {
            return "cannot read: \(error)"
        }
        let item = UploadItem(
            orderID: orderID, path: segment.source, file: segment.file, start: start, count: count, mtime: segment.mtime,
            segment: true, streamOffset: segment.streamOffset + (start - segment.start))
        switch try await upload(item, descriptor: descriptor, sha256: digest) {
        case .stored:
            try await registry.saveLogCursor(segment.cursorAfter)
            return nil
        case .failed(let reason):
            return reason
        }
    }

    /// The systemd journal (whole, or per unit) after the last stored cursor.
    mutating func collectJournal(_ order: WireCollectOrder, problems: inout [WireCollectProblem]) async throws -> UInt32 {
        guard configuration.journal.allowed else {
            problems.append(problem("journal", "this terminal does not allow collecting the journal"))
            return 0
        }
        let limit = order.maxBytes > 0 ? order.maxBytes : configuration.defaultMaxCollectBytes
        let units: [String?] = order.paths.isEmpty ? [nil] : order.paths.map { $0.isEmpty || $0 == "*" ? nil : $0 }
        var files: UInt32 = 0
        for unit in units {
            let source = unit.map { "journal:\($0)" } ?? "journal"
            let cursor = try await registry.logCursor(orderID: order.orderID, source: source)
            let file = spoolDirectory.appendingPathComponent("journal-\(order.orderID)-\(files)-\(Self.fileSafe(source)).txt")
            let excerpt: JournalReader.Excerpt
            if cursor.pendingEnd > 0, !cursor.fingerprint.isEmpty, (try? LogFileInfo(path: file.path))?.size == cursor.pendingEnd {
                // An excerpt cut last session: the same bytes again, so the server resumes it.
                excerpt = JournalReader.Excerpt(file: file, size: cursor.pendingEnd, cursor: cursor.fingerprint)
            } else {
                do {
                    excerpt = try await JournalReader(configuration: configuration.journal).read(unit: unit, after: cursor.journalCursor, into: file)
                } catch {
                    problems.append(problem(source, "\(error)"))
                    continue
                }
            }
            var after = cursor
            after.offset += excerpt.size
            after.journalCursor = excerpt.cursor
            after.pendingEnd = 0
            after.fingerprint = ""
            guard excerpt.size > 0 else {
                if after != cursor { try await registry.saveLogCursor(after) }
                try? FileManager.default.removeItem(at: file)
                continue
            }
            let segment = LogSegment(
                source: source, file: file, start: 0, count: excerpt.size, streamOffset: cursor.offset, mtime: Date(), cursorAfter: after, scratch: true)
            // The pending excerpt's own end cursor rides in the fingerprint field until stored.
            var pending = cursor
            pending.pendingEnd = excerpt.size
            pending.fingerprint = excerpt.cursor
            if let reason = try await send(segment, orderID: order.orderID, limit: limit, problems: &problems, pending: pending) {
                problems.append(problem(source, reason))
                continue
            }
            try? FileManager.default.removeItem(at: file)
            files += 1
            report.collected.append(source)
        }
        return files
    }

    static func fileSafe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "_" })
    }
}
