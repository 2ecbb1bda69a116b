import Foundation
@testable import PiggybackAgent
import Testing

@Suite struct EndpointTests {
    @Test func parsesURLsAndBareHostPort() throws {
        let full = try Endpoint("wss://mgmt.example.com:7443/v1/session")
        #expect(full.host == "mgmt.example.com" && full.port == 7443 && !full.isIPAddress)
        let bare = try Endpoint("127.0.0.1:9000")
        #expect(bare.url == "wss://127.0.0.1:9000/v1/session" && bare.isIPAddress)
        let v6 = try Endpoint("wss://[::1]:7443/v1/session")
        #expect(v6.host == "::1" && v6.isIPAddress)
        #expect(throws: AgentError.self) { try Endpoint("https://x/") }
    }

    @Test func requestPathKeepsPathAndQuery() throws {
        #expect(try Endpoint("wss://mgmt.example.com:7443/v1/session").requestPath == "/v1/session")
        #expect(try Endpoint("wss://mgmt.example.com/fleet/v1/session?site=kobe%202").requestPath == "/fleet/v1/session?site=kobe%202")
        #expect(try Endpoint("wss://mgmt.example.com").requestPath == "/v1/session")
    }
}

@Suite struct IdentityTests {
    @Test func identityIsRandomStableAndPrivate() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-id-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let created = try DeviceIdentity.create(in: directory)
        let loaded = try DeviceIdentity.load(from: directory)
        #expect(loaded?.deviceID == created.deviceID)
        #expect(loaded?.publicKey == created.publicKey)
        #expect(UUID(uuidString: created.deviceID) != nil)
        #expect(!created.deviceID.contains(ProcessInfo.processInfo.hostName))
        let other = FileManager.default.temporaryDirectory.appendingPathComponent("pb-id-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: other) }
        #expect(try DeviceIdentity.create(in: other).deviceID != created.deviceID)
        let mode = (try FileManager.default.attributesOfItem(atPath: DeviceIdentity.url(in: directory).path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
    }

    @Test func corruptIdentityIsAClearError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-id-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "{".write(to: DeviceIdentity.url(in: directory), atomically: true, encoding: .utf8)
        let error = #expect(throws: AgentError.self) { try DeviceIdentity.load(from: directory) }
        #expect(error?.code == .identity)
    }
}

@Suite struct DownloadStoreTests {
    @Test func packageNamesCannotClimbOut() {
        #expect(DownloadStore.safe("../../etc/passwd") == "_._.._etc_passwd")
        #expect(DownloadStore.safe("..") == "_.")
        #expect(DownloadStore.safe("") == "_")
        #expect(DownloadStore.safe("curl+ssl-8.5") == "curl+ssl-8.5")
    }
}

