import Foundation
import Logging
@testable import PiggybackServer
import Testing

@Suite struct StorageTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pb-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func sqliteMigratesOnceAndReopens() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let logger = Logger(label: "test")
        let store = try await ServerStore.open(database: "sqlite", dataDirectory: directory, logger: logger)
        try await DeviceRecord(id: UUID().uuidString, publicKey: Data(count: 32), hostname: "t", state: .accepted).create(on: store.db)
        await store.close()
        let again = try await ServerStore.open(database: "sqlite", dataDirectory: directory, logger: logger)
        #expect(try await DeviceRecord.query(on: again.db).count() == 1)
        await again.close()
    }

    @Test func badDatabaseURLIsAConfigurationError() async throws {
        let error = await #expect(throws: ServerError.self) {
            _ = try await ServerStore.open(database: "mysql://x", dataDirectory: URL(fileURLWithPath: "/tmp"), logger: Logger(label: "test"))
        }
        #expect(error?.code == .configuration)
    }

    @Test func blobStoreRefusesAMismatchedDigest() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let blobs = try BlobStore(root: directory)
        let file = blobs.temporaryURL()
        try Data("abc".utf8).write(to: file)
        #expect(throws: ServerError.self) { try blobs.commit(file: file, expected: String(repeating: "0", count: 64)) }
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let good = blobs.temporaryURL()
        try Data("abc".utf8).write(to: good)
        let digest = try blobs.commit(file: good)
        #expect(digest == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(blobs.contains(sha256: digest))
    }

    @Test func adminTokenIsCreatedOnceWithMode0600() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try AdminToken.loadOrCreate(in: directory)
        let second = try AdminToken.loadOrCreate(in: directory)
        #expect(first.created && !second.created)
        #expect(first.value == second.value)
        #expect(first.matches(first.value) && !first.matches(first.value + "x"))
        let mode = (try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("admin-token").path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
    }
}
