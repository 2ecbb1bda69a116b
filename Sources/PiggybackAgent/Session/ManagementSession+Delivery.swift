import Crypto
import Foundation
import NIOCore
import PiggybackProtocol

extension ManagementSession {
    /// One item being received; its digest grows with every chunk written (on the hasher's
    /// own queue), so verifying the finished file needs no second pass over it.
    struct ActiveDownload {
        let item: WireOfferItem
        let manifest: WirePackageManifest
        let sha256: String
        var received: UInt64
        let handle: FileHandle
        var hasher = ChunkHasher()
        /// Bytes written since writeback was last started (see `startWriteback`).
        var unflushed = 0
    }

    /// Writeback is started every this many bytes, so the fsync before verifying finds
    /// little left to write: on a 200 MiB download the final fsync alone was a third of the
    /// agent's time.
    static let writebackStride = 8 << 20

    /// Starts (does not wait for) writing the last `count` bytes before `end` to disk.
    /// `POSIX_FADV_DONTNEED` starts writeback of the range's dirty pages without waiting and
    /// lets the clean ones go, so a large download does not push the user's files out of the
    /// page cache either (`sync_file_range` is not exported to Swift).
    static func startWriteback(_ handle: FileHandle, end: UInt64, count: Int) {
        _ = posix_fadvise(handle.fileDescriptor, off_t(end) - off_t(count), off_t(count), POSIX_FADV_DONTNEED)
    }

    /// An offered item whose signed manifest verified.
    struct VerifiedItem: Sendable {
        let item: WireOfferItem
        let manifest: WirePackageManifest
    }

    /// Splits the offer into items whose manifests verify and the refusals (answered
    /// FAILED and recorded, so the next 30 tells the administrator why).
    mutating func verify(_ offer: WireOffer, with verifier: PackageVerifier) async throws -> ([VerifiedItem], [WireItemProgress]) {
        var verified: [VerifiedItem] = []
        var refused: [WireItemProgress] = []
        for item in offer.items {
            switch verifier.verify(item) {
            case .success(let manifest):
                verified.append(VerifiedItem(item: item, manifest: manifest))
            case .failure(let refusal):
                let label = "\(item.name)@\(item.version)"
                logger.warning("package refused", metadata: ["package": "\(label)", "reason": "\(refusal.message)"])
                channel.trace.note("refused \(label): \(refusal.message)")
                report.failed.append("\(label): \(refusal.message)")
                refused.append(progress(item, .failed, 0, "refused: \(refusal.message)"))
                var manifest = WirePackageManifest()
                manifest.name = item.name
                manifest.version = item.version
                manifest.sha256 = item.sha256
                manifest.size = item.size
                try await registry.recordInstall(.init(
                    itemID: item.itemID, manifest: manifest, artifact: "", state: "refused", detail: refusal.message, exitCode: 0, updatedAt: Date()))
            }
        }
        return (verified, refused)
    }

    /// Why the user's consent policy defers the offer now, or nil to go ahead.
    func userDefers(_ items: [WireOfferItem]) async -> String? {
        switch configuration.consent {
        case .accept:
            return nil
        case .defer:
            return "consent policy: defer"
        case .ask:
            let prompter = ConsentPrompter(configuration: configuration.consentPrompt, broker: consent, logger: logger)
            let decision = await prompter.ask(items.map { ConsentItem(name: $0.name, version: $0.version, size: $0.size, reason: $0.reason) })
            channel.trace.note("consent: \(decision.answer.rawValue) via \(decision.via)")
            return decision.answer == .accept ? nil : "the user deferred the download (\(decision.via))"
        }
    }

    /// 70 ↔ 1030: tells the server where each item stands, then receives chunks until every
    /// item is verified or given up. Verified artifacts are queued for installation, which
    /// runs after the session (its result travels with the next 30).
    mutating func download(_ verified: [VerifiedItem], refused: [WireItemProgress]) async throws {
        guard !verified.isEmpty || !refused.isEmpty else { return }
        let store = try DownloadStore(dataDirectory: configuration.dataDirectory)
        let held = try await registry.packages()
        let queued = Set(try await registry.installs().filter { ["downloaded", "installed"].contains($0.state) }.map(\.itemID))
        let installer = PackageInstaller(configuration: configuration.installer, logger: logger)
        var active: [String: ActiveDownload] = [:]
        var status = WireDeliveryStatus()
        status.items = refused
        for entry in verified {
            let item = entry.item
            let sha = Hex.encode(item.sha256)
            let label = "\(item.name)@\(item.version)"
            if let copy = held.first(where: { $0.sha256 == sha && FileManager.default.fileExists(atPath: $0.path) }) {
                status.items.append(progress(item, .verified, item.size))
                report.delivered.append(label)
                if !queued.contains(item.itemID) {
                    try await registry.queueInstall(itemID: item.itemID, manifest: entry.manifest, artifact: copy.path)
                }
                continue
            }
            if installer.isInPlace(InstallPlan(manifest: entry.manifest, dataDirectory: configuration.dataDirectory)) {
                // Already installed here (e.g. before the agent was reinstalled): nothing to fetch.
                status.items.append(progress(item, .verified, item.size, "already installed on the terminal"))
                report.delivered.append(label)
                try await registry.recordInstall(.init(
                    itemID: item.itemID, manifest: entry.manifest, artifact: "", state: "installed",
                    detail: "already in place at its target; not downloaded again", exitCode: 0, updatedAt: Date()))
                continue
            }
            var received = store.partialSize(sha256: sha, item: item.itemID)
            if let limit = policy.maxDeliveryBytes, item.size > received, item.size - received > limit {
                // Too big for this link or battery: keep what we have, take the rest later.
                status.items.append(progress(item, .deferred, received, "\(policy.reason): \(item.size - received) B left > \(limit) B limit"))
                report.deferred.append(label)
                continue
            }
            if received > item.size {
                try? FileManager.default.removeItem(at: store.partial(sha256: sha, item: item.itemID))
                received = 0
            }
            let partial = store.partial(sha256: sha, item: item.itemID)
            if !FileManager.default.fileExists(atPath: partial.path) {
                _ = FileManager.default.createFile(atPath: partial.path, contents: nil)
            }
            let handle: FileHandle
            do {
                handle = try FileHandle(forWritingTo: partial)
                try handle.seek(toOffset: received)
            } catch {
                status.items.append(progress(item, .failed, received, "cannot write \(partial.path): \(error)"))
                report.failed.append("\(label): cannot write")
                continue
            }
            var download = ActiveDownload(item: item, manifest: entry.manifest, sha256: sha, received: received, handle: handle)
            if received > 0 {
                // Resuming: the bytes already on disk go into the digest once.
                do {
                    download.hasher = ChunkHasher(continuing: try DownloadStore.hasher(of: partial, count: received))
                } catch {
                    try? handle.close()
                    status.items.append(progress(item, .failed, received, "cannot read \(partial.path): \(error)"))
                    report.failed.append("\(label): cannot read the partial")
                    continue
                }
            }
            if received == item.size {
                status.items.append(try await complete(&download, store: store))
                continue
            }
            if received > 0 { channel.trace.note("resuming \(label) at \(received) of \(item.size) B") }
            status.items.append(progress(item, .receiving, received))
            active[item.itemID] = download
        }
        let throttle = await transferThrottle()
        var limits = transferLimits(await throttle.decision)
        if configuration.throttle.enabled, !active.isEmpty {
            status.maxChunkSize = UInt32(limits.chunk)
            status.maxWindow = UInt32(limits.window)
        }
        try await channel.send(.deliveryStatus(status))
        let started = ContinuousClock.now
        defer { if report.downloadedBytes > 0 { report.downloadSeconds = (ContinuousClock.now - started).seconds } }
        await throttle.start()
        await throttle.sent(count: window)
        do {
            try await receiveChunks(&active, store: store, throttle: throttle, limits: &limits)
        } catch {
            await throttle.stop()
            await board?.clear()
            throw error
        }
        await throttle.stop()
    }

    /// 1030 chunks in, one 70 out for each, paced by the throttle: delaying the 70 is what
    /// slows the server (it sends only while the window has room).
    mutating func receiveChunks(
        _ active: inout [String: ActiveDownload], store: DownloadStore, throttle: TransferThrottle<ContinuousClock>, limits: inout (chunk: Int, window: Int)
    ) async throws {
        var silentAcks = 0
        while !active.isEmpty {
            guard case .chunk(let itemID, let offset, let data) = try await channel.receiveDelivery() else {
                throw unexpected()
            }
            await throttle.answered()
            await throttle.moved(bytes: data.readableBytes)
            guard var download = active[itemID] else {
                // A chunk of an item given up on: acknowledge it, so the server's window moves on.
                try await channel.send(.deliveryStatus(WireDeliveryStatus()))
                continue
            }
            guard offset == download.received, download.received + UInt64(data.readableBytes) <= download.item.size else {
                throw await channel.fail(TelexError(.invalid, "chunk of \(itemID) at \(offset), expected \(download.received)", code: 1030))
            }
            var update = WireDeliveryStatus()
            do {
                try Self.write(data, to: download.handle)
                await download.hasher.update(data)
                download.received += UInt64(data.readableBytes)
                download.unflushed += data.readableBytes
                if download.unflushed >= Self.writebackStride {
                    Self.startWriteback(download.handle, end: download.received, count: download.unflushed)
                    download.unflushed = 0
                }
                report.downloadedBytes += data.readableBytes
                if download.received == download.item.size {
                    update.items.append(try await complete(&download, store: store))
                    active[itemID] = nil
                    await board?.finish(itemID)
                } else {
                    update.items.append(progress(download.item, .receiving, download.received))
                    active[itemID] = download
                    await noteTransfer(
                        throttle, key: itemID, direction: "download", name: "\(download.item.name)@\(download.item.version)",
                        done: download.received, total: download.item.size)
                }
            } catch {
                // Disk full or similar: keep the partial for the next session, stop this item.
                try? download.handle.close()
                active[itemID] = nil
                await board?.finish(itemID)
                update.items.append(progress(download.item, .failed, download.received, "terminal storage: \(error)"))
                report.failed.append("\(download.item.name)@\(download.item.version): \(error)")
            }
            // How many chunks this 70 releases at the server: one, plus a wider window's
            // growth; a narrower window's next acknowledgements release none. The round-trip
            // timer pairs each release with the chunk that answers it.
            var releases = 1
            if !active.isEmpty {
                try await throttle.pace(bytes: data.readableBytes)
                let now = transferLimits(await throttle.decision)
                if configuration.throttle.enabled, now != limits {
                    update.maxChunkSize = UInt32(now.chunk)
                    update.maxWindow = UInt32(now.window)
                    if now.window > limits.window { releases += now.window - limits.window }
                    if now.window < limits.window { silentAcks += limits.window - now.window }
                    limits = now
                }
            }
            try await channel.send(.deliveryStatus(update))
            if silentAcks > 0 && releases == 1 {
                silentAcks -= 1
            } else {
                await throttle.sent(count: releases)
            }
        }
    }

    /// Writes a chunk from the received buffer itself (no copy), all of it or an error.
    static func write(_ data: ByteBuffer, to handle: FileHandle) throws {
        try data.withUnsafeReadableBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = Glibc.write(handle.fileDescriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw AgentError(.storage, "cannot write the download: \(String(cString: strerror(errno)))")
                }
                done += written
            }
        }
    }

    /// All bytes are on disk: the SHA-256 decides.
    mutating func complete(_ download: inout ActiveDownload, store: DownloadStore) async throws -> WireItemProgress {
        let item = download.item
        let label = "\(item.name)@\(item.version)"
        let syncStarted = ContinuousClock.now
        try? download.handle.synchronize()
        report.downloadSyncSeconds += (ContinuousClock.now - syncStarted).seconds
        try? download.handle.close()
        let partial = store.partial(sha256: download.sha256, item: item.itemID)
        let actual = Hex.encode(await download.hasher.finalize())
        guard actual == download.sha256 else {
            try? FileManager.default.removeItem(at: partial)
            report.failed.append("\(label): digest mismatch")
            return progress(item, .failed, 0, "SHA-256 \(actual) does not match the offer; partial discarded")
        }
        let target = store.package(name: item.name, version: item.version)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.moveItem(at: partial, to: target)
        try await registry.recordPackage(.init(name: item.name, version: item.version, sha256: download.sha256, size: Int64(item.size), path: target.path))
        try await registry.queueInstall(itemID: item.itemID, manifest: download.manifest, artifact: target.path)
        report.delivered.append(label)
        return progress(item, .verified, item.size)
    }

    func progress(_ item: WireOfferItem, _ state: WireItemProgress.State, _ received: UInt64, _ detail: String = "") -> WireItemProgress {
        var progress = WireItemProgress()
        progress.itemID = item.itemID
        progress.state = state
        progress.received = received
        progress.detail = detail
        return progress
    }
}
