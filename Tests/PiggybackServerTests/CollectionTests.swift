import Crypto
import FluentKit
import Foundation
import Logging
import PiggybackProtocol
@testable import PiggybackServer
import Testing

/// A server context over a fresh store (SQLite, or a PostgreSQL URL) and a blob store,
/// driven telex by telex through `AgentSession`, as the agent endpoint does.
final class CollectionHarness: Sendable {
    let context: ServerContext
    let store: ServerStore
    let directory: URL

    static var postgresURL: String? { ProcessInfo.processInfo.environment["PIGGYBACK_TEST_POSTGRES_URL"] }

    init(context: ServerContext, store: ServerStore, directory: URL) {
        self.context = context
        self.store = store
        self.directory = directory
    }

    /// Runs `body` with a harness; `blobRoot` puts the blob store elsewhere (a tmpfs).
    static func with(database: String = "sqlite", blobRoot: URL? = nil, _ body: (CollectionHarness) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-collect-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var logger = Logger(label: "test.collection")
        logger.logLevel = .critical
        let store = try await ServerStore.open(database: database, dataDirectory: directory, logger: logger)
        do {
            let context = ServerContext(
                configuration: ServerConfiguration(dataDirectory: directory), serverID: "test", store: store,
                blobs: try BlobStore(root: blobRoot ?? directory), signer: try PackageSigner.loadOrCreate(in: directory),
                authority: try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost"], logger: logger), logger: logger
            )
            try await body(CollectionHarness(context: context, store: store, directory: directory))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Runs `body` with a fresh database of the test PostgreSQL, dropped afterwards.
    static func withScratchPostgres(_ body: (String) async throws -> Void) async throws {
        try await ScratchPostgres.run(prefix: "pb_collect", body)
    }

    /// An accepted device with labels.
    func device(_ hostname: String = "term", labels: [String: String] = [:]) async throws -> String {
        let id = UUID().uuidString.lowercased()
        try await DeviceRecord(id: id, publicKey: Data(count: 32), hostname: hostname, state: .accepted).create(on: store.db)
        if !labels.isEmpty { try await context.requests.setLabels(deviceID: id, labels) }
        return id
    }

    /// A session of `deviceID` that has authenticated and sent its inventory.
    func session(_ deviceID: String) async throws -> SessionDriver {
        var session = AgentSession(context: context, remoteAddress: "127.0.0.1")
        try session.sequence.receive(.discover)
        try session.sequence.receive(.authenticate)
        try session.sequence.receive(.inventory)
        session.device = try await DeviceRecord.find(deviceID, on: store.db)
        return SessionDriver(session: session)
    }

    func order(_ spec: Collections.OrderSpec) async throws -> String {
        try await context.collections.order(spec).requireID().uuidString.lowercased()
    }

    func indexed(_ deviceID: String) async throws -> [CollectedFileRecord] {
        try await context.collections.files(deviceID: deviceID)
    }
}

/// The 1090 the server answered with.
struct Refused: Error, CustomStringConvertible {
    let reason: WireErrorReason
    let message: String
    var description: String { "refused (\(reason)): \(message)" }
}

/// The terminal's side of one session, telex by telex.
struct SessionDriver {
    var session: AgentSession
    let codec = TelexCodec()
    var items = 0

    mutating func send(_ telex: Telex) async throws -> AgentSession.Outcome {
        await session.receive(frame: try codec.encode(telex))
    }

    /// 40 → the orders of 1040.
    mutating func orders() async throws -> [WireCollectOrder] {
        let outcome = try await send(.deliveryFinished(WireDeliveryFinished()))
        guard case .collectInstruction(let instruction)? = outcome.replies.first else { throw Refused(reason: .unspecified, message: "no 1040: \(outcome.replies)") }
        return instruction.orders
    }

    static func status(_ outcome: AgentSession.Outcome) throws -> WireCollectionStatus {
        switch outcome.replies.first {
        case .collectionStatus(let status)?: return status
        case .serverError(let error)?: throw Refused(reason: error.reason, message: error.message)
        default: throw Refused(reason: .unspecified, message: "unexpected answer \(outcome.replies)")
        }
    }

    /// Announces a file; returns the answer and the item id.
    mutating func header(order: String, path: String, data: [UInt8], segment: Bool = false, streamOffset: UInt64 = 0) async throws -> (WireCollectionStatus, String) {
        items += 1
        var header = WireFileHeader()
        header.orderID = order
        header.itemID = "item-\(items)"
        header.path = path
        header.size = UInt64(data.count)
        header.sha256 = Data(SHA256.hash(data: data))
        header.mtimeUnixMs = 1_795_000_000_000
        header.segment = segment
        header.streamOffset = streamOffset
        var collected = WireCollectedData()
        collected.file = header
        return (try Self.status(try await send(.collectedData(collected))), header.itemID)
    }

    /// Sends `data[from...]` in chunks (chunk frames, or protobuf messages); stops after
    /// `limit` chunks. Returns the last answer.
    mutating func chunks(itemID: String, data: [UInt8], from: UInt64, chunkSize: Int = 64 * 1024, frames: Bool = true, limit: Int = .max) async throws -> WireCollectionStatus {
        var offset = Int(from)
        var last = WireCollectionStatus()
        var sent = 0
        while offset < data.count, sent < limit {
            let end = min(offset + chunkSize, data.count)
            if frames {
                let frame = ChunkFrame.header(code: .collectedData, itemID: itemID, offset: UInt64(offset), count: end - offset) + data[offset..<end]
                last = try Self.status(await session.receive(frame: frame))
            } else {
                var chunk = WireChunk()
                chunk.itemID = itemID
                chunk.offset = UInt64(offset)
                chunk.data = Data(data[offset..<end])
                var collected = WireCollectedData()
                collected.chunk = chunk
                last = try Self.status(try await send(.collectedData(collected)))
            }
            offset = end
            sent += 1
        }
        return last
    }

    /// Header, then every chunk the server asks for.
    mutating func upload(order: String, path: String, data: [UInt8], segment: Bool = false, streamOffset: UInt64 = 0, frames: Bool = true) async throws -> WireCollectionStatus {
        let (first, item) = try await header(order: order, path: path, data: data, segment: segment, streamOffset: streamOffset)
        if first.stored || data.isEmpty { return first }
        return try await chunks(itemID: item, data: data, from: first.received, frames: frames)
    }

    mutating func done(order: String, files: Int, problems: [(String, String)] = []) async throws {
        var done = WireOrderDone()
        done.orderID = order
        done.files = UInt32(files)
        done.problems = problems.map { path, reason in
            var problem = WireCollectProblem()
            problem.path = path
            problem.reason = reason
            return problem
        }
        var collected = WireCollectedData()
        collected.done = done
        _ = try Self.status(try await send(.collectedData(collected)))
    }
}

/// Orders, `due(for:)`, the 1040, since-last, progress and segment assembly on a real store.
@Suite struct CollectionTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func dueByDeviceLabelAndAllOnceAndEverySession() async throws {
        try await CollectionHarness.with { h in try await dueScenario(h) }
    }

    @Test(.enabled(if: CollectionHarness.postgresURL != nil, "needs PIGGYBACK_TEST_POSTGRES_URL"))
    func postgresDueSinceLastAndProgress() async throws {
        try await CollectionHarness.withScratchPostgres { url in
            try await CollectionHarness.with(database: url) { h in
                try await dueScenario(h)
                try await sinceLastScenario(h)
                try await progressScenario(h)
            }
        }
    }

    func dueIDs(_ h: CollectionHarness, _ deviceID: String) async throws -> Set<String> {
        Set(try await h.context.collections.due(for: deviceID).compactMap { $0.id?.uuidString.lowercased() })
    }

    func dueScenario(_ h: CollectionHarness) async throws {
        let osaka = try await h.device("osaka-1", labels: ["site": "osaka"])
        let kobe = try await h.device("kobe-1", labels: ["site": "kobe"])
        let own = try await h.order(.init(deviceID: osaka, paths: ["results/*.csv"]))
        let group = try await h.order(.init(label: ("site", "osaka"), paths: ["/var/log/app/*.log"], kind: .log, sinceLast: true))
        let everyone = try await h.order(.init(all: true, paths: ["*.txt"], schedule: .everySession, maxBytes: 1000))
        let journal = try await h.order(.init(label: ("site", "kobe"), paths: [], kind: .journal))

        var session = try await h.session(osaka)
        let orders = try await session.orders()
        #expect(Set(orders.map(\.orderID)) == [own, group, everyone])
        let byID = Dictionary(uniqueKeysWithValues: orders.map { ($0.orderID, $0) })
        #expect(byID[own]?.kind == .files && byID[own]?.sinceLast == false)
        #expect(byID[group]?.kind == .log && byID[group]?.sinceLast == true && byID[group]?.paths == ["/var/log/app/*.log"])
        #expect(byID[everyone]?.maxBytes == 1000)
        #expect(try await dueIDs(h, kobe) == [everyone, journal])

        // Completing: the once order is over for osaka; standing orders stay due.
        _ = try await session.upload(order: own, path: "results/a.csv", data: Self.bytes("a,b\n1,2\n"))
        try await session.done(order: own, files: 1)
        try await session.done(order: group, files: 0)
        try await session.done(order: everyone, files: 0)
        #expect(try await dueIDs(h, osaka) == [group, everyone])

        // A once order that was not completed (no OrderDone) stays due.
        let pending = try await h.order(.init(deviceID: kobe, paths: ["x"]))
        var kobeSession = try await h.session(kobe)
        #expect(try await kobeSession.orders().map(\.orderID).contains(pending))
        #expect(try await dueIDs(h, kobe).contains(pending))

        // A label added later brings the label's orders; a cancelled order goes.
        try await h.context.requests.setLabels(deviceID: kobe, ["site": "osaka"])
        #expect(try await dueIDs(h, kobe).contains(group))
        _ = try await h.context.collections.cancel(id: try #require(UUID(uuidString: everyone)))
        #expect(try await dueIDs(h, osaka) == [group])
        try await h.context.requests.setLabels(deviceID: kobe, ["site": "kobe"])
    }

    @Test func ordersAreValidated() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            func refused(_ spec: Collections.OrderSpec, _ words: String) async {
                do {
                    _ = try await h.context.collections.order(spec)
                    Issue.record("accepted, expected: \(words)")
                } catch let error as ServerError {
                    #expect(error.message.contains(words), "\(error.message)")
                } catch {
                    Issue.record("\(error)")
                }
            }
            await refused(.init(deviceID: device, all: true, paths: ["x"]), "exactly one")
            await refused(.init(paths: ["x"]), "exactly one")
            await refused(.init(deviceID: device, paths: []), "at least one --path")
            await refused(.init(deviceID: device, paths: ["/var/log/syslog"], kind: .log, deleteAfter: true), "whole files only")
            await refused(.init(deviceID: device, paths: [], kind: .journal, deleteAfter: true), "whole files only")
            await refused(.init(deviceID: "nope", paths: ["x"]), "no device nope")
            // Defaults: files once, logs and the journal every session.
            #expect(try await h.context.collections.order(.init(deviceID: device, paths: ["x"])).schedule == .once)
            #expect(try await h.context.collections.order(.init(deviceID: device, paths: ["x"], kind: .log)).schedule == .everySession)
            #expect(try await h.context.collections.order(.init(deviceID: device, paths: [], kind: .journal)).schedule == .everySession)
            #expect(try await h.context.collections.order(.init(deviceID: device, paths: ["x"], kind: .log, schedule: .once)).schedule == .once)
            let flagged = try await h.context.collections.order(.init(deviceID: device, paths: ["x"], deleteAfter: true))
            var session = try await h.session(device)
            let wire = try #require(try await session.orders().first { $0.orderID == flagged.id?.uuidString.lowercased() })
            #expect(wire.deleteAfter)
        }
    }

    @Test func sinceLastSendsNothingTwice() async throws {
        try await CollectionHarness.with { h in try await sinceLastScenario(h) }
    }

    func sinceLastScenario(_ h: CollectionHarness) async throws {
        _ = try await h.context.alerts.addRule(try LogRuleSpec(name: "panic-\(UUID().uuidString.prefix(6))", pattern: "panic", severity: "critical"))
        let device = try await h.device()
        let order = try await h.order(.init(deviceID: device, paths: ["*.log"], schedule: .everySession, sinceLast: true))
        let content = Self.bytes("ok\nkernel panic here\n")
        var first = try await h.session(device)
        _ = try await first.orders()
        let stored = try await first.upload(order: order, path: "/var/log/app.log", data: content)
        #expect(stored.stored && stored.received == UInt64(content.count))
        try await first.done(order: order, files: 1)
        #expect(try await h.indexed(device).count == 1)
        let alerts = try await h.context.alerts.alerts(deviceID: device)
        #expect(alerts.count == 1 && alerts.first?.count == 1)

        // Next session: same content at the same path: answered stored at once, no index row,
        // no analysis (the alert's count stays), no byte sent.
        var second = try await h.session(device)
        _ = try await second.orders()
        let (answer, _) = try await second.header(order: order, path: "/var/log/app.log", data: content)
        #expect(answer.stored && answer.received == UInt64(content.count))
        #expect(try await h.indexed(device).count == 1)
        #expect(try await h.context.alerts.alerts(deviceID: device).first?.count == 1)
        // Changed content travels and is indexed.
        let grown = content + Self.bytes("another panic\n")
        let again = try await second.upload(order: order, path: "/var/log/app.log", data: grown)
        #expect(again.stored)
        #expect(try await h.indexed(device).count == 2)
        #expect(try await h.context.alerts.alerts(deviceID: device).first?.count == 3)

        // Without since-last the same content is indexed again (a new collection), but not analysed twice.
        let plain = try await h.order(.init(deviceID: device, paths: ["*.log"], schedule: .everySession))
        var third = try await h.session(device)
        _ = try await third.orders()
        let (held, _) = try await third.header(order: plain, path: "/var/log/app.log", data: content)
        #expect(held.stored)
        #expect(try await h.indexed(device).count == 3)
        #expect(try await h.context.alerts.alerts(deviceID: device).first?.count == 3)
    }

    @Test func progressPerDevice() async throws {
        try await CollectionHarness.with { h in try await progressScenario(h) }
    }

    func progressScenario(_ h: CollectionHarness) async throws {
        let a = try await h.device("a", labels: ["role": "kiosk-\(h.directory.lastPathComponent)"])
        let b = try await h.device("b", labels: ["role": "kiosk-\(h.directory.lastPathComponent)"])
        let c = try await h.device("c")
        let order = try await h.order(.init(label: ("role", "kiosk-\(h.directory.lastPathComponent)"), paths: ["*.csv"], schedule: .everySession))
        let big = Array(repeating: UInt8(ascii: "x"), count: 200_000)
        // a: two runs, one file each time, a problem in the last run.
        for round in 0..<2 {
            var session = try await h.session(a)
            _ = try await session.orders()
            _ = try await session.upload(order: order, path: "r\(round).csv", data: Self.bytes("round \(round)\n"))
            try await session.done(order: order, files: 1, problems: round == 1 ? [("big.csv", "above the size limit")] : [])
        }
        // b: an upload cut after one chunk.
        var session = try await h.session(b)
        _ = try await session.orders()
        let (_, item) = try await session.header(order: order, path: "big.csv", data: big)
        _ = try await session.chunks(itemID: item, data: big, from: 0, limit: 1)

        let entry = try #require(try await h.context.collections.progress().first { $0.order.id?.uuidString.lowercased() == order })
        let rows = Dictionary(uniqueKeysWithValues: entry.devices.map { ($0.deviceID, $0) })
        #expect(rows[c] == nil)
        let done = try #require(rows[a])
        #expect(done.state == .done && done.runs == 2 && done.files == 2 && done.bytes == 16 && done.lastRun != nil)
        #expect(done.problems.map(\.path) == ["big.csv"] && done.problems.first?.reason == "above the size limit")
        let uploading = try #require(rows[b])
        #expect(uploading.state == .uploading && uploading.partialBytes == 64 * 1024 && uploading.runs == 0)

        // The partial resumes next session from where it was cut.
        var resumed = try await h.session(b)
        _ = try await resumed.orders()
        let (answer, item2) = try await resumed.header(order: order, path: "big.csv", data: big)
        #expect(answer.received == 64 * 1024)
        #expect(try await resumed.chunks(itemID: item2, data: big, from: answer.received).stored)
        try await resumed.done(order: order, files: 1)
        let after = try #require(try await h.context.collections.progress().first { $0.order.id?.uuidString.lowercased() == order })
        let row = try #require(after.devices.first { $0.deviceID == b })
        #expect(row.state == .done && row.files == 1 && row.bytes == Int64(big.count) && row.partialBytes == 0)
    }

    @Test func segmentsAssembleInStreamOrder() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["/var/log/syslog"], kind: .log))
            var session = try await h.session(device)
            _ = try await session.orders()
            // Out of order, one overlapping the other by 3 bytes, and the plain protobuf chunk path.
            _ = try await session.upload(order: order, path: "/var/log/syslog", data: Self.bytes("line 3\nline 4\n"), segment: true, streamOffset: 14)
            _ = try await session.upload(order: order, path: "/var/log/syslog", data: Self.bytes("line 1\nline 2\nlin"), segment: true, streamOffset: 0, frames: false)
            let content = try #require(try await h.context.collections.content(deviceID: device, path: "/var/log/syslog"))
            #expect(content.segmented && content.segments == 2 && content.gaps == 0)
            var text = Data()
            for piece in content.pieces {
                let data = try Data(contentsOf: piece.blob)
                text += data[Int(piece.offset)..<Int(piece.offset + piece.count)]
            }
            #expect(String(decoding: text, as: UTF8.self) == "line 1\nline 2\nline 3\nline 4\n")
            let rows = try await h.indexed(device)
            #expect(Set(rows.map(\.streamOffset)) == [0, 14] && rows.allSatisfy(\.segment))
        }
    }

    @Test func equalSegmentsAtTwoPlacesAreBothKeptAndAnalysed() async throws {
        try await CollectionHarness.with { h in
            _ = try await h.context.alerts.addRule(try LogRuleSpec(name: "io", pattern: "I/O error"))
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["/var/log/kern.log"], kind: .log, sinceLast: true))
            let line = Self.bytes("sda: I/O error\n")
            var session = try await h.session(device)
            _ = try await session.orders()
            #expect(try await session.upload(order: order, path: "/var/log/kern.log", data: line, segment: true, streamOffset: 0).stored)
            // The same line appended again: new data at a new offset (its bytes are held
            // already, so none travel), indexed and counted.
            let (second, _) = try await session.header(order: order, path: "/var/log/kern.log", data: line, segment: true, streamOffset: UInt64(line.count))
            #expect(second.stored)
            #expect(try await h.indexed(device).count == 2)
            #expect(try await h.context.alerts.alerts(deviceID: device).first?.count == 2)
            // A segment re-sent at the same place (its answer was lost): held, not indexed again.
            let (resent, _) = try await session.header(order: order, path: "/var/log/kern.log", data: line, segment: true, streamOffset: UInt64(line.count))
            #expect(resent.stored)
            #expect(try await h.indexed(device).count == 2)
            #expect(try await h.context.alerts.alerts(deviceID: device).first?.count == 2)
        }
    }

    @Test func assemblyCountsGapsAndSkipsCoveredSegments() {
        let blob = URL(fileURLWithPath: "/b")
        let t = Date()
        let content = Collections.assemble([
            (offset: 100, size: 50, collectedAt: t, blob: blob), (offset: 0, size: 60, collectedAt: t, blob: blob),
            (offset: 10, size: 20, collectedAt: t, blob: blob), (offset: 140, size: 20, collectedAt: t, blob: blob),
        ])
        #expect(content.pieces.map(\.offset) == [0, 0, 10])
        #expect(content.pieces.map(\.count) == [60, 50, 10])
        #expect(content.gaps == 1 && content.segments == 3 && content.size == 120)
    }

    @Test func partialKeysParse() throws {
        let order = UUID()
        let sha = String(repeating: "ab", count: 32)
        let key = try #require(PartialKey(Collections.partialKey(deviceID: "dd1c-733a-x", orderID: order, sha256: sha)))
        #expect(key.deviceID == "dd1c-733a-x" && key.orderID == order.uuidString.lowercased() && key.sha256 == sha)
        #expect(PartialKey("short") == nil)
    }
}
