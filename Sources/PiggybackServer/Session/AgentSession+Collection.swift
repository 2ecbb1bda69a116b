import Foundation
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
            wire.paths = (try? JSONDecoder().decode([String].self, from: Data(order.paths.utf8))) ?? []
            wire.maxBytes = UInt64(max(0, order.maxBytes))
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
            return Outcome(replies: [.collectionStatus(try await append(chunk, deviceID: deviceID))])
        case .done(let done):
            let orderID = try order(done.orderID)
            try await context.collections.complete(orderID: orderID, deviceID: deviceID, files: Int(done.files), problems: done.problems)
            if !done.problems.isEmpty {
                logger.notice("collection problems", metadata: ["order": "\(done.orderID)", "problems": "\(done.problems.map { "\($0.path): \($0.reason)" })"])
            }
            var status = WireCollectionStatus()
            status.orderID = done.orderID
            status.stored = true
            return Outcome(replies: [.collectionStatus(status)])
        case nil:
            throw TelexError(.malformed, "collected data carries neither a file, a chunk nor a completion", code: 50)
        }
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
        if context.blobs.contains(sha256: sha), context.blobs.size(sha256: sha) == header.size {
            // Already held (this or another terminal sent the same bytes): index, send nothing.
            try await context.collections.index(deviceID: deviceID, orderID: orderID, header: header, sha256: sha)
            await context.alerts.analyzeCollected(deviceID: deviceID, path: header.path, sha256: sha)
            status.received = header.size
            status.stored = true
            return status
        }
        let partial = context.blobs.partialURL(key: "\(deviceID)-\(orderID.uuidString.lowercased())-\(sha)")
        var received: UInt64 = 0
        if let size = (try? FileManager.default.attributesOfItem(atPath: partial.path)[.size]) as? NSNumber {
            received = min(size.uint64Value, header.size)
            if size.uint64Value > header.size { try? FileManager.default.removeItem(at: partial); received = 0 }
        }
        if received == 0 {
            guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
                throw ServerError(.storage, "cannot create \(partial.path); is the data directory writable and not full?")
            }
        }
        upload = UploadState(orderID: orderID, header: header, sha256: sha, partial: partial, received: received)
        if received == header.size {
            return try await store(deviceID: deviceID)
        }
        status.received = received
        return status
    }

    mutating func append(_ chunk: WireChunk, deviceID: String) async throws -> WireCollectionStatus {
        guard var current = upload, current.header.itemID == chunk.itemID else {
            throw TelexError(.outOfSequence, "chunk for \(chunk.itemID) without its file header", code: 50)
        }
        guard chunk.offset == current.received else {
            throw TelexError(.invalid, "chunk at offset \(chunk.offset), expected \(current.received)", code: 50)
        }
        guard current.received + UInt64(chunk.data.count) <= current.header.size else {
            throw TelexError(.invalid, "chunk runs past the announced size \(current.header.size)", code: 50)
        }
        do {
            let handle = try FileHandle(forWritingTo: current.partial)
            defer { try? handle.close() }
            try handle.seek(toOffset: current.received)
            try handle.write(contentsOf: chunk.data)
        } catch {
            throw ServerError(.storage, "cannot write collected data: \(error); the terminal keeps its file for later")
        }
        current.received += UInt64(chunk.data.count)
        upload = current
        if current.received == current.header.size {
            return try await store(deviceID: deviceID)
        }
        var status = WireCollectionStatus()
        status.itemID = chunk.itemID
        status.orderID = current.header.orderID
        status.received = current.received
        return status
    }

    /// The last byte arrived: check the digest, move the file into the blob store, index it.
    mutating func store(deviceID: String) async throws -> WireCollectionStatus {
        guard let current = upload else { throw TelexError(.internal, "no upload in progress", code: 50) }
        upload = nil
        var status = WireCollectionStatus()
        status.itemID = current.header.itemID
        status.orderID = current.header.orderID
        do {
            try context.blobs.commit(file: current.partial, expected: current.sha256)
        } catch let error as ServerError where error.code == .invalid {
            // The file changed while it was read: drop it, the terminal retries next time.
            logger.notice("collected file digest mismatch", metadata: ["path": "\(current.header.path)"])
            status.received = 0
            status.stored = false
            return status
        } catch {
            throw ServerError(.storage, "cannot store collected file: \(error)")
        }
        try await context.collections.index(deviceID: deviceID, orderID: current.orderID, header: current.header, sha256: current.sha256)
        await context.alerts.analyzeCollected(deviceID: deviceID, path: current.header.path, sha256: current.sha256)
        status.received = current.header.size
        status.stored = true
        return status
    }
}
