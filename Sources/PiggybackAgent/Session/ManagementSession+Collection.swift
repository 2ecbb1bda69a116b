import Foundation
import PiggybackProtocol

extension ManagementSession {
    /// 1040 → (50 ↔ 1070)*: uploads each order's files, resuming where the server stands.
    mutating func collect(_ instruction: WireCollectInstruction) async throws {
        try? FileManager.default.createDirectory(
            at: configuration.dataDirectory.appendingPathComponent("outbox"), withIntermediateDirectories: true)
        let scanner = CollectionScanner(roots: configuration.collectRoots)
        for order in instruction.orders {
            var problems: [WireCollectProblem] = []
            var files: UInt32 = 0
            let limit = order.maxBytes > 0 ? order.maxBytes : configuration.defaultMaxCollectBytes
            var seen = Set<String>()
            for pattern in order.paths {
                let (matches, found) = scanner.scan(pattern)
                problems += found.map { problem($0.0, $0.1) }
                for match in matches where seen.insert(match.resolved).inserted {
                    guard match.size <= limit else {
                        problems.append(problem(match.path, "\(match.size) bytes is above the order's limit of \(limit)"))
                        continue
                    }
                    if let reason = try await upload(match, orderID: order.orderID) {
                        problems.append(problem(match.path, reason))
                    } else {
                        files += 1
                        report.collected.append(match.path)
                    }
                }
            }
            report.problems += problems.map { "\($0.path): \($0.reason)" }
            var done = WireOrderDone()
            done.orderID = order.orderID
            done.files = files
            done.problems = problems
            var data = WireCollectedData()
            data.done = done
            try await channel.send(.collectedData(data))
            guard case .collectionStatus = try await channel.receive() else { throw unexpected() }
        }
    }

    /// Uploads one file; nil on success, else why it was not stored.
    ///
    /// The file is opened once: its digest and the bytes sent both come from that handle and
    /// cover exactly the size seen at scan time, so a log that keeps growing is sent as it
    /// was when scanned, not refused as changed.
    mutating func upload(_ match: CollectionScanner.Match, orderID: String) async throws -> String? {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: match.resolved))
        } catch {
            return "cannot open: \(error)"
        }
        defer { try? handle.close() }
        let digest: String
        do {
            digest = try DownloadStore.sha256(of: handle, count: match.size)
        } catch {
            return "cannot read: \(error)"
        }
        var header = WireFileHeader()
        header.orderID = orderID
        header.itemID = digest
        header.path = match.path
        header.size = match.size
        header.sha256 = Data(Hex.decode(digest) ?? [])
        header.mtimeUnixMs = Int64(match.mtime.timeIntervalSince1970 * 1000)
        var announce = WireCollectedData()
        announce.file = header
        try await channel.send(.collectedData(announce))
        guard case .collectionStatus(var status) = try await channel.receive() else { throw unexpected() }
        guard status.received <= match.size else {
            throw await channel.fail(TelexError(.invalid, "server claims \(status.received) of \(match.size) bytes", code: 1070))
        }
        var next = status.received
        var inFlight = 0
        if next > 0 && !status.stored { channel.trace.note("resuming \(match.path) at \(next) of \(match.size) B") }
        while !status.stored {
            while inFlight < window && next < match.size {
                try handle.seek(toOffset: next)
                let data = try handle.read(upToCount: Int(min(UInt64(chunkSize), match.size - next))) ?? Data()
                guard !data.isEmpty else {
                    // Truncated under us: collect the acknowledgements in flight, then move on.
                    for _ in 0..<inFlight { _ = try await channel.receive() }
                    return "file shrank while being read; will retry next session"
                }
                var chunk = WireChunk()
                chunk.itemID = digest
                chunk.offset = next
                chunk.data = data
                var message = WireCollectedData()
                message.chunk = chunk
                try await channel.send(.collectedData(message))
                report.uploadedBytes += data.count
                next += UInt64(data.count)
                inFlight += 1
            }
            if inFlight == 0 {
                // Everything sent and acknowledged, yet not stored: the digest did not match.
                return "file changed while being read; will retry next session"
            }
            guard case .collectionStatus(let ack) = try await channel.receive() else { throw unexpected() }
            status = ack
            inFlight -= 1
            if ack.received == 0 && !ack.stored && next >= match.size {
                for _ in 0..<inFlight { _ = try await channel.receive() }
                return "file changed while being read; will retry next session"
            }
        }
        return nil
    }

    func problem(_ path: String, _ reason: String) -> WireCollectProblem {
        var problem = WireCollectProblem()
        problem.path = path
        problem.reason = reason
        return problem
    }
}
