import FluentKit
import Foundation
import NIOCore
import PiggybackProtocol

extension AgentSession {
    /// The first 1030: the packages this terminal needs, each with its signed manifest.
    mutating func offer() async throws -> WireDelivery {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 30) }
        offered = true
        let terminal = Catalog.Terminal(
            deviceID: deviceID,
            labels: try await context.requests.labels(deviceID: deviceID),
            inventory: InventoryStore.queryable(try await context.inventory.current(deviceID: deviceID)),
            position: sessionPosition.map { ($0.lat, $0.lon, $0.accuracyM) }
        )
        var offer = WireOffer()
        for choice in try await context.catalog.choose(for: terminal) {
            let package = choice.package
            let packageID = try package.requireID()
            let signed = try await context.catalog.signedManifest(package)
            var item = WireOfferItem()
            item.itemID = packageID.uuidString.lowercased()
            item.name = package.name
            item.version = package.version
            item.size = UInt64(package.size)
            item.sha256 = Data(Hex.decode(package.sha256) ?? [])
            item.reason = choice.reason
            item.manifest = signed.manifest
            item.signature = signed.signature
            offer.items.append(item)
            downloads.add(.init(itemID: item.itemID, packageID: packageID, size: item.size, blob: context.blobs.url(sha256: package.sha256)))
            try await context.catalog.record(deviceID: deviceID, packageID: packageID, state: .offered, reason: choice.reason)
        }
        var delivery = WireDelivery()
        delivery.offer = offer
        return delivery
    }

    /// Results of installations the terminal reports with its 30.
    func store(installs: [WireInstallReport]) async throws {
        guard let deviceID else { return }
        for report in installs.prefix(1000) {
            let package: PackageRecord?
            if let id = UUID(uuidString: report.itemID) {
                package = try await PackageRecord.find(id, on: context.store.db)
            } else {
                package = try await PackageRecord.query(on: context.store.db)
                    .filter(\.$name == report.name).filter(\.$version == report.version).first()
            }
            guard let package, let packageID = package.id else {
                logger.notice("install report for a package no longer in the catalogue", metadata: ["package": "\(report.name)@\(report.version)"])
                continue
            }
            let state: DeliveryRecord.State
            var final = false
            switch report.state {
            case "installed": state = .installed
            case "removed": state = .removed
            case "rolled_back": state = .rolledBack; final = true
            case "failed": state = .failed; final = true
            default: state = .failed
            }
            var detail = report.detail
            if report.exitCode != 0 { detail = "exit \(report.exitCode): \(detail)" }
            try await context.catalog.record(deviceID: deviceID, packageID: packageID, state: state, bytes: package.size, detail: detail, final: final)
            logger.info("install reported", metadata: ["package": "\(package.name)@\(package.version)", "state": "\(report.state)"])
        }
    }

    /// 70: acknowledgements and results; answers with the chunks the window allows.
    mutating func progress(_ status: WireDeliveryStatus) async throws -> [ByteBuffer] {
        guard let deviceID else { throw TelexError(.outOfSequence, "no authenticated device", code: 70) }
        if downloads.accepted {
            downloads.inFlight = max(0, downloads.inFlight - 1)
        }
        let first = !downloads.accepted
        downloads.accepted = true
        // The terminal may narrow (never widen) the chunk size and the window while it yields.
        if status.maxChunkSize > 0 { downloads.chunkLimit = max(1024, Int(status.maxChunkSize)) }
        if status.maxWindow > 0 { downloads.windowLimit = Int(status.maxWindow) }
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
                try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .downloaded, bytes: Int64(item.size), detail: progress.detail)
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

    /// Reads chunks straight into outgoing frames until `window` are unacknowledged or
    /// nothing is left (one copy: file → frame; see `ChunkFrame`).
    mutating func fillWindow() throws -> [ByteBuffer] {
        var out: [ByteBuffer] = []
        let chunkSize = UInt64(min(context.configuration.chunkSize, downloads.chunkLimit ?? .max))
        let window = min(context.configuration.window, downloads.windowLimit ?? .max)
        while downloads.inFlight < window, let id = downloads.nextToSend(), var item = downloads.items[id] {
            let offset = item.nextOffset ?? 0
            let count = Int(min(chunkSize, item.size - offset))
            out.append(try chunkFrame(item.blob, itemID: id, offset: offset, count: count))
            item.nextOffset = offset + UInt64(count)
            downloads.items[id] = item
            downloads.inFlight += 1
        }
        return out
    }

    /// One 1030 chunk frame: the header, then `count` bytes of the blob read with pread.
    func chunkFrame(_ url: URL, itemID: String, offset: UInt64, count: Int) throws -> ByteBuffer {
        let header = ChunkFrame.header(code: .delivery, itemID: itemID, offset: offset, count: count)
        var buffer = ByteBufferAllocator().buffer(capacity: header.count + count)
        buffer.writeBytes(header)
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ServerError(.storage, "cannot read package blob \(url.lastPathComponent): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var done = 0
        while done < count {
            let read = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { pointer in
                pread(fd, pointer.baseAddress, count - done, off_t(offset) + off_t(done))
            }
            guard read > 0 else {
                throw ServerError(.storage, "package blob \(url.lastPathComponent) is shorter than its catalogue size")
            }
            done += read
        }
        return buffer
    }
}
