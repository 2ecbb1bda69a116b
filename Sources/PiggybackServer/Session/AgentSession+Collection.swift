import Crypto
import Foundation
import NIOPosix
import PiggybackProtocol

extension AgentSession {
    /// 40 → 1040: the orders due for this terminal.
    mutating func collectInstruction() async throws -> WireCollectInstruction {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 40) }
        var instruction = WireCollectInstruction()
        for order in try await context.collections.due(for: deviceID) {
            let orderID = try order.requireID()
            var wire = WireCollectOrder()
            wire.orderID = orderID.uuidString.lowercased()
            wire.paths = order.pathList
            wire.maxBytes = UInt64(max(0, order.maxBytes))
            wire.kind = switch order.kind {
            case .files: .files
            case .log: .log
            case .journal: .journal
            }
            wire.sinceLast = order.sinceLast
            wire.deleteAfter = order.deleteAfter
            instruction.orders.append(wire)
            dueOrders[orderID] = order
        }
        return instruction
    }

    /// 50 → 1070: file headers, chunks and order completions.
    mutating func collected(_ data: WireCollectedData) async throws -> Outcome {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 50) }
        switch data.body {
        case .file(let header):
            return Outcome(replies: [.collectionStatus(try await begin(header, deviceID: deviceID))])
        case .chunk(let chunk):
            let complete = try chunk.data.withUnsafeBytes { bytes in
                try write(itemID: chunk.itemID, offset: chunk.offset, bytes: bytes)
            }
            return Outcome(replies: [.collectionStatus(try await afterChunk(complete: complete, deviceID: deviceID))])
        case .done(let done):
            let orderID = try order(done.orderID)
            try await context.collections.complete(orderID: orderID, deviceID: deviceID, files: Int(done.files), problems: done.problems)
            if !done.problems.isEmpty {
                logger.notice("collection problems", metadata: ["order": "\(done.orderID)", "problems": "\(done.problems.prefix(20).map { "\($0.path): \($0.reason)" })"])
            }
            var status = WireCollectionStatus()
            status.orderID = done.orderID
            status.stored = true
            return Outcome(replies: [.collectionStatus(status)])
        case nil:
            throw TelexError(.malformed, "collected data carries neither a file, a chunk nor a completion", code: 50)
        }
    }

    /// The fast path for 50 chunk frames: the data is written from the received frame,
    /// without decoding it into a protobuf message (see `ChunkFrame`). Nil for any other frame.
    mutating func receiveChunk(frame: [UInt8]) async throws -> Outcome? {
        guard frame.count <= context.configuration.maxFrameSize,
            let parsed = frame.withUnsafeBytes({ ChunkFrame.parse($0, code: .collectedData) })
        else { return nil }
        try sequence.receive(.collectedData)
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 50) }
        let complete = try frame.withUnsafeBytes { bytes in
            try write(itemID: parsed.itemID, offset: parsed.offset, bytes: UnsafeRawBufferPointer(rebasing: bytes[parsed.data]))
        }
        return Outcome(replies: [.collectionStatus(try await afterChunk(complete: complete, deviceID: deviceID))])
    }

    func order(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text), dueOrders[id] != nil else {
            throw TelexError(.invalid, "order \(text) was not given to this terminal in this session", code: 50)
        }
        return id
    }

    mutating func begin(_ header: WireFileHeader, deviceID: String) async throws -> WireCollectionStatus {
        let orderID = try order(header.orderID)
        guard header.sha256.count == 32, !header.path.isEmpty else {
            throw TelexError(.invalid, "file header needs a path and a 32-byte SHA-256", code: 50)
        }
        let orderLimit = UInt64(max(0, dueOrders[orderID]?.maxBytes ?? 0))
        let limit = orderLimit > 0 ? min(orderLimit, context.configuration.maxUploadBytes) : context.configuration.maxUploadBytes
        guard header.size <= limit else {
            throw TelexError(.invalid, "file \(header.path) announces \(header.size) bytes, above the limit of \(limit)", code: 50)
        }
        if let unfinished = upload {
            // The terminal gave up on a file (it changed or vanished): keep its partial for later.
            logger.notice("collected file abandoned by the terminal", metadata: ["path": "\(unfinished.header.path)"])
            upload = nil
        }
        let sha = Hex.encode(header.sha256)
        var status = WireCollectionStatus()
        status.itemID = header.itemID
        status.orderID = header.orderID
        if dueOrders[orderID]?.sinceLast == true || header.segment,
            try await context.collections.alreadyHeld(deviceID: deviceID, orderID: orderID, header: header, sha256: sha)
        {
            // Since-last: the server has this content from this order or path (a segment: at
            // this place of this log, e.g. re-sent after a lost answer); nothing travels twice.
            context.metrics.add(ServerMetrics.Name.collectedUnchanged)
            status.received = header.size
            status.stored = true
            return status
        }
        let partial = context.blobs.partialURL(key: Collections.partialKey(deviceID: deviceID, orderID: orderID, sha256: sha))
        if context.blobs.contains(sha256: sha), context.blobs.size(sha256: sha) == header.size {
            // Already held (this or another terminal sent the same bytes): index, send nothing.
            try? FileManager.default.removeItem(at: partial)
            try await indexStored(deviceID: deviceID, orderID: orderID, header: header, sha256: sha)
            status.received = header.size
            status.stored = true
            return status
        }
        let file = try PartialFile(url: partial)
        var received = UInt64(max(0, (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size] as? NSNumber)?.int64Value ?? 0))
        if received > header.size {
            try file.truncate(to: 0)
            received = 0
        }
        var hasher = SHA256()
        if received > 0 {
            // Resuming: the digest covers the bytes kept from an earlier session.
            let prefix = received
            hasher = try await NIOThreadPool.singleton.runIfActive { Digest(hasher: try Self.hash(partial, upTo: prefix)) }.hasher
        }
        upload = UploadState(orderID: orderID, header: header, sha256: sha, file: file, received: received, hasher: hasher)
        if received == header.size {
            return try await store(deviceID: deviceID)
        }
        status.received = received
        return status
    }

    /// Writes one chunk of the current upload at its offset; true when the file is complete.
    mutating func write(itemID: String, offset: UInt64, bytes: UnsafeRawBufferPointer) throws -> Bool {
        guard var current = upload, current.header.itemID == itemID else {
            throw TelexError(.outOfSequence, "chunk for \(itemID) without its file header", code: 50)
        }
        guard offset == current.received else {
            throw TelexError(.invalid, "chunk at offset \(offset), expected \(current.received)", code: 50)
        }
        guard current.received + UInt64(bytes.count) <= current.header.size else {
            throw TelexError(.invalid, "chunk runs past the announced size \(current.header.size)", code: 50)
        }
        try current.file.write(bytes, at: offset)
        current.hasher.update(bufferPointer: bytes)
        current.received += UInt64(bytes.count)
        upload = current
        context.metrics.add(ServerMetrics.Name.collectedBytes, bytes.count)
        return current.received == current.header.size
    }

    /// The answer to a chunk: bytes received so far, or, for the last one, the stored file.
    mutating func afterChunk(complete: Bool, deviceID: String) async throws -> WireCollectionStatus {
        if complete { return try await store(deviceID: deviceID) }
        var status = WireCollectionStatus()
        status.itemID = upload?.header.itemID ?? ""
        status.orderID = upload?.header.orderID ?? ""
        status.received = upload?.received ?? 0
        return status
    }

    /// The last byte arrived: check the digest, sync the file, move it into the blob store
    /// (syncing its directory), index it, and only then answer `stored`; the terminal may
    /// delete its copy on that answer.
    mutating func store(deviceID: String) async throws -> WireCollectionStatus {
        guard let current = upload else { throw TelexError(.internal, "no upload in progress", code: 50) }
        upload = nil
        var status = WireCollectionStatus()
        status.itemID = current.header.itemID
        status.orderID = current.header.orderID
        let digest = Hex.encode(current.hasher.finalize())
        guard digest == current.sha256 else {
            // The file changed while it was read: drop it, the terminal retries next time.
            logger.notice("collected file digest mismatch", metadata: ["path": "\(current.header.path)"])
            try? FileManager.default.removeItem(at: current.partial)
            status.received = 0
            status.stored = false
            return status
        }
        do {
            // fsync of a large file takes a while: off the session's thread.
            let (file, blobs, sha) = (current.file, context.blobs, current.sha256)
            try await NIOThreadPool.singleton.runIfActive {
                try file.sync()
                try blobs.place(file: file.url, sha256: sha)
            }
        } catch let error as ServerError {
            throw error
        } catch {
            throw PartialFile.failure((error as NSError).code == Int(ENOSPC) ? ENOSPC : EIO, doing: "store the collected file \(current.header.path) (\(error))")
        }
        try await indexStored(deviceID: deviceID, orderID: current.orderID, header: current.header, sha256: current.sha256)
        status.received = current.header.size
        status.stored = true
        return status
    }

    /// Indexes a blob now held for the device and analyses it; a failed index (database
    /// full) is a storage error, and the blob is indexed when the terminal sends it again.
    func indexStored(deviceID: String, orderID: UUID, header: WireFileHeader, sha256: String) async throws {
        do {
            try await context.collections.index(deviceID: deviceID, orderID: orderID, header: header, sha256: sha256)
        } catch {
            throw ServerError(.storage, "cannot index the collected file \(header.path): \(error); the terminal keeps it and sends it again later")
        }
        await context.alerts.analyzeCollected(
            deviceID: deviceID, path: header.path, sha256: sha256, segmentOffset: header.segment ? Int64(clamping: header.streamOffset) : nil)
    }

    /// A digest state carried back from the thread pool (`SHA256` is a plain value that
    /// does not declare `Sendable`).
    struct Digest: @unchecked Sendable {
        var hasher: SHA256
    }

    /// The digest state of a partial's first `count` bytes.
    static func hash(_ url: URL, upTo count: UInt64) throws -> SHA256 {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var left = count
        while left > 0, let data = try handle.read(upToCount: Int(min(left, 1 << 20))), !data.isEmpty {
            hasher.update(data: data)
            left -= UInt64(data.count)
        }
        return hasher
    }
}
