import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

extension ManagementSession {
    /// Where decompressed rotations and journal excerpts wait for upload (outside the
    /// collection roots, so never collected themselves).
    var spoolDirectory: URL { configuration.dataDirectory.appendingPathComponent("spool") }

    /// 1040 → (50 ↔ 1070)*: uploads each order's files or log segments, resuming where the
    /// server stands, then ends each order with its problems.
    mutating func collect(_ instruction: WireCollectInstruction) async throws {
        try? FileManager.default.createDirectory(
            at: configuration.dataDirectory.appendingPathComponent("outbox"), withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(at: spoolDirectory, withIntermediateDirectories: true)
        guard !instruction.orders.isEmpty else { return }
        // The throttle samples the load only while this session uploads.
        let throttle = await transferThrottle()
        await throttle.start()
        do {
            try await collectOrders(instruction)
        } catch {
            await throttle.stop()
            await board?.clear()
            throw error
        }
        await throttle.stop()
    }

    mutating func collectOrders(_ instruction: WireCollectInstruction) async throws {
        for order in instruction.orders {
            var problems: [WireCollectProblem] = []
            var files: UInt32 = 0
            switch order.kind {
            case .log: files = try await collectLogs(order, problems: &problems)
            case .journal: files = try await collectJournal(order, problems: &problems)
            default: files = try await collectFiles(order, problems: &problems)
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

    /// Whole files matching the order's globs; with `since_last`, files unchanged since the
    /// server last stored them are not even read; with `delete_after`, each is deleted once
    /// stored (and only if it did not change since it was read).
    mutating func collectFiles(_ order: WireCollectOrder, problems: inout [WireCollectProblem]) async throws -> UInt32 {
        let scanner = CollectionScanner(roots: configuration.collectRoots)
        let limit = order.maxBytes > 0 ? order.maxBytes : configuration.defaultMaxCollectBytes
        var files: UInt32 = 0
        var seen = Set<String>()
        for pattern in order.paths {
            let (matches, found) = scanner.scan(pattern)
            problems += found.map { problem($0.0, $0.1) }
            for match in matches where seen.insert(match.resolved).inserted {
                guard match.size <= limit else {
                    problems.append(problem(match.path, "\(match.size) bytes is above the order's limit of \(limit); not sent"))
                    continue
                }
                guard let before = try? LogFileInfo(path: match.resolved) else {
                    problems.append(problem(match.path, "vanished before it could be read"))
                    continue
                }
                let stamp = Self.nanoseconds(before.mtime)
                if order.sinceLast, let _ = try await registry.collectedDigest(
                    orderID: order.orderID, path: match.path, size: before.size, mtimeNanoseconds: stamp, inode: before.inode)
                {
                    report.unchanged.append(match.path)
                    continue
                }
                let item = UploadItem(orderID: order.orderID, path: match.path, file: URL(fileURLWithPath: match.resolved), count: before.size, mtime: before.mtime)
                switch try await uploadSteady(item) {
                case .failed(let reason):
                    problems.append(problem(match.path, reason))
                case .stored(let sha256):
                    files += 1
                    report.collected.append(match.path)
                    try await registry.recordCollected(
                        orderID: order.orderID, path: match.path, size: before.size, mtimeNanoseconds: stamp, inode: before.inode, sha256: sha256)
                    if order.deleteAfter, let reason = Self.deleteIfUnchanged(match.resolved, as: before) {
                        problems.append(problem(match.path, reason))
                    }
                }
            }
        }
        return files
    }

    /// Deletes a collected file unless it changed since it was read; nil on success.
    static func deleteIfUnchanged(_ path: String, as read: LogFileInfo) -> String? {
        guard let now = try? LogFileInfo(path: path) else { return nil }
        guard now.inode == read.inode, now.size == read.size, now.mtime == read.mtime else {
            return "changed after it was collected; kept on the terminal"
        }
        guard unlink(path) == 0 else { return "stored, but cannot delete it: \(String(cString: strerror(errno)))" }
        return nil
    }

    static func nanoseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1e9).rounded())
    }

    func problem(_ path: String, _ reason: String) -> WireCollectProblem {
        var problem = WireCollectProblem()
        problem.path = path
        problem.reason = reason
        return problem
    }
}
