import Foundation
import PiggybackProtocol

#if canImport(Glibc)
import Glibc
#endif

extension ManagementSession {
    static let changedWhileSending = "file changed while being sent; will retry next session"

    /// Uploads a whole file that may be written to meanwhile: hashed, checked unchanged
    /// after hashing (else hashed again), sent; a digest mismatch at the server (it changed
    /// while being sent) is tried again. A torn file is never stored.
    mutating func uploadSteady(_ first: UploadItem, attempts: Int = 3) async throws -> UploadItem.Result {
        var item = first
        for attempt in 1...attempts {
            let descriptor = open(item.file.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return .failed("cannot open: \(String(cString: strerror(errno)))") }
            defer { close(descriptor) }
            let digest: String
            do {
                digest = try await FileDigest.sha256Idle(descriptor: descriptor, count: item.count, strict: configuration.throttle.enabled)
            } catch {
                return .failed("cannot read: \(error)")
            }
            guard let after = try? LogFileInfo(path: item.file.path) else { return .failed("vanished while being read") }
            guard after.size == item.count, after.mtime == item.mtime else {
                channel.trace.note("\(item.path) changed while being hashed; reading it again")
                item.count = after.size
                item.mtime = after.mtime
                continue
            }
            let result = try await upload(item, descriptor: descriptor, sha256: digest)
            if result == .failed(Self.changedWhileSending), attempt < attempts, let now = try? LogFileInfo(path: item.file.path) {
                item.count = now.size
                item.mtime = now.mtime
                continue
            }
            return result
        }
        return .failed("kept changing while being read; will retry next session")
    }

    /// Uploads a byte range whose digest is known: 50 header, the server's 1070 says how
    /// much it already holds (a cut upload resumes there), then 50 chunks paced by the
    /// window of unacknowledged chunks.
    mutating func upload(_ item: UploadItem, descriptor: Int32, sha256 digest: String) async throws -> UploadItem.Result {
        var header = WireFileHeader()
        header.orderID = item.orderID
        header.itemID = digest
        header.path = item.path
        header.size = item.count
        header.sha256 = Data(Hex.decode(digest) ?? [])
        header.mtimeUnixMs = Int64(item.mtime.timeIntervalSince1970 * 1000)
        header.segment = item.segment
        header.streamOffset = item.streamOffset
        var announce = WireCollectedData()
        announce.file = header
        let started = ContinuousClock.now
        defer { report.uploadSeconds += (ContinuousClock.now - started).seconds }
        try await channel.send(.collectedData(announce))
        guard case .collectionStatus(var status) = try await channel.receive() else { throw unexpected() }
        guard status.received <= item.count else {
            throw await channel.fail(TelexError(.invalid, "server claims \(status.received) of \(item.count) bytes", code: 1070))
        }
        var next = status.received
        var inFlight = 0
        if next > 0 && !status.stored { channel.trace.note("resuming \(item.path) at \(next) of \(item.count) B") }
        let throttle = await transferThrottle()
        var acknowledged = status.received
        while !status.stored {
            let limits = transferLimits(await throttle.decision)
            while inFlight < limits.window && next < item.count {
                let count = Int(min(UInt64(limits.chunk), item.count - next))
                try await throttle.pace(bytes: count)
                let sent = try await channel.sendChunk(
                    code: .collectedData, itemID: digest, offset: next, from: descriptor, at: item.start + next, count: count)
                guard sent else {
                    // Truncated under us: collect the acknowledgements in flight, then move on.
                    for _ in 0..<inFlight { _ = try await channel.receive() }
                    return .failed("file shrank while being read; will retry next session")
                }
                await throttle.sent()
                report.uploadedBytes += count
                next += UInt64(count)
                inFlight += 1
            }
            if inFlight == 0 {
                // Everything sent and acknowledged, yet not stored: the digest did not match.
                return .failed(Self.changedWhileSending)
            }
            guard case .collectionStatus(let ack) = try await channel.receive() else { throw unexpected() }
            await throttle.answered()
            if ack.received > acknowledged {
                await throttle.moved(bytes: Int(ack.received - acknowledged))
                acknowledged = ack.received
            }
            await noteTransfer(throttle, key: digest, direction: "upload", name: item.path, done: acknowledged, total: item.count)
            status = ack
            inFlight -= 1
            if ack.received == 0 && !ack.stored && next >= item.count {
                for _ in 0..<inFlight { _ = try await channel.receive() }
                return .failed(Self.changedWhileSending)
            }
        }
        await board?.finish(digest)
        return .stored(sha256: digest)
    }
}
