import Crypto
import FluentKit
import Foundation
import PiggybackProtocol
@testable import PiggybackServer
import SQLKit
import Testing

/// What `stored = true` promises (the terminal may delete its file on it), and what the
/// terminal is told when the server cannot keep that promise.
@Suite struct CollectionDurabilityTests {
    static var mayMount: Bool { getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" }

    static func data(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        var state = UInt32(seed)
        return (0..<count).map { _ in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }

    static func sha(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }

    static func partials(_ root: URL) -> [URL] {
        let directory = root.appendingPathComponent("partial")
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).map { directory.appendingPathComponent($0) }
    }

    static func size(_ url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? NSNumber)?.intValue ?? -1
    }

    @Test func storedMeansBlobInPlaceAndIndexed() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["*.bin"], deleteAfter: true))
            let bytes = Self.data(300_000)
            var session = try await h.session(device)
            #expect(try await session.orders().first?.deleteAfter == true)
            let (first, item) = try await session.header(order: order, path: "out/a.bin", data: bytes)
            #expect(!first.stored && first.received == 0)
            // Every chunk but the last is answered with the bytes so far, never `stored`.
            let partial = try await session.chunks(itemID: item, data: bytes, from: 0, limit: 4)
            #expect(!partial.stored && partial.received == 4 * 64 * 1024)
            #expect(try await h.indexed(device).isEmpty)
            let last = try await session.chunks(itemID: item, data: bytes, from: partial.received)
            #expect(last.stored && last.received == UInt64(bytes.count) && last.itemID == item)
            // At that answer: the blob holds the bytes, no partial is left, the index row is there.
            let blob = h.context.blobs.url(sha256: Self.sha(bytes))
            #expect(try Data(contentsOf: blob) == Data(bytes))
            #expect(Self.partials(h.directory).isEmpty)
            let rows = try await h.indexed(device)
            #expect(rows.count == 1 && rows.first?.sha256 == Self.sha(bytes) && rows.first?.size == Int64(bytes.count) && rows.first?.path == "out/a.bin")
            #expect(rows.first?.mtime == Date(timeIntervalSince1970: 1_795_000_000))
        }
    }

    @Test func aFileThatChangedIsDroppedNotStored() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["*"]))
            let announced = Self.data(100_000)
            var sent = announced
            sent[50_000] ^= 0xFF
            var session = try await h.session(device)
            _ = try await session.orders()
            let (_, item) = try await session.header(order: order, path: "a", data: announced)
            let answer = try await session.chunks(itemID: item, data: sent, from: 0)
            #expect(!answer.stored && answer.received == 0)
            #expect(try await h.indexed(device).isEmpty)
            #expect(Self.partials(h.directory).isEmpty)
            #expect(!h.context.blobs.contains(sha256: Self.sha(announced)))
        }
    }

    @Test func chunksOutOfPlaceEndTheSession() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["*"]))
            let bytes = Self.data(200_000)
            var session = try await h.session(device)
            _ = try await session.orders()
            let (_, item) = try await session.header(order: order, path: "a", data: bytes)
            await #expect(throws: Refused.self) { _ = try await session.chunks(itemID: item, data: bytes, from: 65536, limit: 1) }
            var other = try await h.session(device)
            _ = try await other.orders()
            await #expect(throws: Refused.self) { _ = try await other.chunks(itemID: "never-announced", data: bytes, from: 0, limit: 1) }
        }
    }

    /// The index write fails after the blob is in place: the terminal gets a storage error
    /// and keeps its file; the next session finds the blob and indexes it without a byte sent.
    @Test func failedIndexIsAStorageErrorAndHealsNextSession() async throws {
        try await CollectionHarness.with { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["*"]))
            let bytes = Self.data(150_000)
            let sql = try #require(h.store.db as? any SQLDatabase)
            var session = try await h.session(device)
            _ = try await session.orders()
            let (_, item) = try await session.header(order: order, path: "r.csv", data: bytes)
            try await sql.raw("ALTER TABLE collected_files RENAME TO collected_files_away").run()
            do {
                _ = try await session.chunks(itemID: item, data: bytes, from: 0)
                Issue.record("stored although the index could not be written")
            } catch let refused as Refused {
                #expect(refused.reason == .storage)
                #expect(refused.message.contains("cannot index"))
            }
            try await sql.raw("ALTER TABLE collected_files_away RENAME TO collected_files").run()
            #expect(try await h.indexed(device).isEmpty)

            var next = try await h.session(device)
            _ = try await next.orders()
            let (answer, _) = try await next.header(order: order, path: "r.csv", data: bytes)
            #expect(answer.stored && answer.received == UInt64(bytes.count))
            #expect(try await h.indexed(device).count == 1)
        }
    }

    /// Server disk full (a 1 MiB tmpfs holds the blob store): the upload fails with a clear
    /// storage error, nothing is indexed, the partial holds exactly whole acknowledged
    /// chunks; with room again, the next session resumes from it.
    @Test(.enabled(if: CollectionDurabilityTests.mayMount, "needs root to mount a tmpfs (runs in CI)"))
    func diskFullIsAClearErrorAndTheUploadResumes() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("pb-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        try Self.run("/bin/mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "pbtest", mountPoint.path)
        defer {
            try? Self.run("/bin/umount", mountPoint.path)
            try? FileManager.default.removeItem(at: mountPoint)
        }
        try await CollectionHarness.with(blobRoot: mountPoint) { h in
            let device = try await h.device()
            let order = try await h.order(.init(deviceID: device, paths: ["*"], deleteAfter: true))
            let bytes = Self.data(3 << 20)
            var session = try await h.session(device)
            _ = try await session.orders()
            let (_, item) = try await session.header(order: order, path: "big.bin", data: bytes)
            do {
                _ = try await session.chunks(itemID: item, data: bytes, from: 0)
                Issue.record("a 3 MiB upload was stored on a 1 MiB disk")
            } catch let refused as Refused {
                #expect(refused.reason == .storage)
                #expect(refused.message.contains("disk is full"), "\(refused.message)")
            }
            #expect(try await h.indexed(device).isEmpty)
            let partials = Self.partials(mountPoint)
            #expect(partials.count == 1)
            let kept = Self.size(try #require(partials.first))
            #expect(kept > 0 && kept < bytes.count && kept % (64 * 1024) == 0, "partial of \(kept) bytes")

            try Self.run("/bin/mount", "-o", "remount,size=16m", mountPoint.path)
            var next = try await h.session(device)
            _ = try await next.orders()
            let (answer, item2) = try await next.header(order: order, path: "big.bin", data: bytes)
            #expect(answer.received == UInt64(kept))
            let last = try await next.chunks(itemID: item2, data: bytes, from: answer.received)
            #expect(last.stored)
            #expect(try await h.indexed(device).count == 1)
            #expect(try Data(contentsOf: h.context.blobs.url(sha256: Self.sha(bytes))) == Data(bytes))
        }
    }

    static func run(_ tool: String, _ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServerError(.storage, "\(tool) \(arguments.joined(separator: " ")) failed") }
    }
}
