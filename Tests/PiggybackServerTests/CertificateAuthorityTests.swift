import Foundation
import Logging
@testable import PiggybackServer
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    let logger = Logger(label: "test")

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pb-ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func mode(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func createsCAOnceAndKeepsItStable() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost", "127.0.0.1"], logger: logger)
        let second = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost", "127.0.0.1"], logger: logger)
        #expect(first.fingerprint == second.fingerprint)
        #expect(first.serverCertificate == second.serverCertificate)
        #expect(try mode(directory.appendingPathComponent("ca-key.pem")) == 0o600)
        #expect(try mode(directory.appendingPathComponent("server-key.pem")) == 0o600)
    }

    @Test func reissuesServerCertificateWhenNamesChangeButKeepsTheCA() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost", "127.0.0.1"], logger: logger)
        let second = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost", "127.0.0.1", "mgmt.example.com", "10.1.2.3"], logger: logger)
        #expect(first.fingerprint == second.fingerprint)
        #expect(first.serverCertificate != second.serverCertificate)
        #expect(Set(CertificateAuthority.coveredNames(second.serverCertificate)) == ["localhost", "127.0.0.1", "mgmt.example.com", "10.1.2.3"])
        #expect(second.serverCertificate.issuer == second.caCertificate.subject)
    }

    @Test func serverCertificateIsSmall() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let authority = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost", "127.0.0.1"], logger: logger)
        // Both certificates together stay well under 1.5 KiB (P-256), which keeps the TLS handshake small.
        #expect(CertificateAuthority.der(authority.serverCertificate).count + CertificateAuthority.der(authority.caCertificate).count < 1536)
    }

    @Test func unreadableCAIsAClearErrorNotANewCA() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost"], logger: logger)
        try "garbage".write(to: directory.appendingPathComponent("ca-key.pem"), atomically: true, encoding: .utf8)
        #expect(throws: ServerError.self) {
            try CertificateAuthority.loadOrCreate(in: directory, names: ["localhost"], logger: logger)
        }
    }

    @Test func ipAddressTextRoundTrips() {
        #expect(IPAddressText.parse("127.0.0.1") == [127, 0, 0, 1])
        #expect(IPAddressText.parse("::1")?.count == 16)
        #expect(IPAddressText.parse("localhost") == nil)
        #expect(IPAddressText.format([10, 0, 0, 1]) == "10.0.0.1")
        #expect(IPAddressText.format(IPAddressText.parse("::1") ?? []) == "::1")
    }
}
