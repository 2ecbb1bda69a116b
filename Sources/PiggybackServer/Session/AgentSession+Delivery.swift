import Foundation
import PiggybackProtocol

extension AgentSession {
    /// The first 1030: the packages this terminal needs.
    mutating func offer() async throws -> WireDelivery {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 30) }
        var offer = WireOffer()
        for package in try await context.catalog.pending(for: deviceID) {
            let packageID = try package.requireID()
            var item = WireOfferItem()
            item.itemID = packageID.uuidString.lowercased()
            item.name = package.name
            item.version = package.version
            item.size = UInt64(package.size)
            item.sha256 = Data(Hex.decode(package.sha256) ?? [])
            item.reason = "assigned"
            offer.items.append(item)
            downloads.add(.init(itemID: item.itemID, packageID: packageID, size: item.size, blob: context.blobs.url(sha256: package.sha256)))
            try await context.catalog.record(deviceID: deviceID, packageID: packageID, state: .offered)
        }
        var delivery = WireDelivery()
        delivery.offer = offer
        return delivery
    }

    /// 70: acknowledgements and results; answers with the chunks the window allows.
    mutating func progress(_ status: WireDeliveryStatus) async throws -> [Telex] {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 70) }
        if downloads.accepted {
            downloads.inFlight = max(0, downloads.inFlight - 1)
        }
        let first = !downloads.accepted
        downloads.accepted = true
        for progress in status.items {
            guard var item = downloads.items[progress.itemID] else {
                throw TelexError(.invalid, "delivery status names item \(progress.itemID), which was not offered", code: 70)
            }
            guard !item.finished else { continue }
            guard progress.received <= item.size else {
                throw TelexError(.invalid, "item \(progress.itemID) reports \(progress.received) bytes of \(item.size)", code: 70)
            }
            switch progress.state {
            case .verified:
                item.finished = true
                try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .delivered, bytes: Int64(item.size))
            case .deferred:
                item.finished = true
                try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .deferred, detail: progress.detail)
            case .failed:
                item.finished = true
                try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .failed, bytes: Int64(progress.received), detail: progress.detail)
            case .receiving, .UNRECOGNIZED:
                if item.nextOffset == nil {
                    item.nextOffset = progress.received
                    try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .downloading, bytes: Int64(progress.received))
                }
            }
            downloads.items[progress.itemID] = item
        }
        if first { downloads.inFlight = 0 }
        return try fillWindow()
    }

    /// Reads and sends chunks until `window` are unacknowledged or nothing is left.
    mutating func fillWindow() throws -> [Telex] {
        var out: [Telex] = []
        let chunkSize = UInt64(context.configuration.chunkSize)
        while downloads.inFlight < context.configuration.window, let id = downloads.nextToSend(), var item = downloads.items[id] {
            let offset = item.nextOffset ?? 0
            let count = min(chunkSize, item.size - offset)
            let data = try readChunk(item.blob, offset: offset, count: Int(count))
            var chunk = WireChunk()
            chunk.itemID = id
            chunk.offset = offset
            chunk.data = data
            var delivery = WireDelivery()
            delivery.chunk = chunk
            out.append(.delivery(delivery))
            item.nextOffset = offset + UInt64(data.count)
            downloads.items[id] = item
            downloads.inFlight += 1
        }
        return out
    }

    func readChunk(_ url: URL, offset: UInt64, count: Int) throws -> Data {
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw ServerError(.storage, "package blob \(url.lastPathComponent) is shorter than its catalogue size")
            }
            return data
        } catch let error as ServerError {
            throw error
        } catch {
            throw ServerError(.storage, "cannot read package blob \(url.lastPathComponent): \(error)")
        }
    }
}
