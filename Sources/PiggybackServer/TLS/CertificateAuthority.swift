import Crypto
import Foundation
import Logging
import NIOSSL
import PiggybackProtocol
import SwiftASN1
import X509

/// The server's own CA and its server certificate, created on first start and kept in
/// the data directory.
///
/// Agents pin the CA (its SHA-256 comes in the enrollment token), so the CA key never
/// changes; the server certificate is reissued whenever the names it must cover change.
/// Both keys are P-256: the smallest certificates TLS 1.3 peers all accept, which keeps
/// the handshake within the session's byte budget.
public struct CertificateAuthority: Sendable {
    /// The CA certificate agents pin.
    public let caCertificate: Certificate
    /// The current server certificate, issued by the CA.
    public let serverCertificate: Certificate
    /// PEM of the server key (Crypto's key types are not `Sendable`).
    let serverKeyPEM: String

    /// SHA-256 of the CA certificate's DER, lower-case hex: what enrollment tokens carry.
    public var fingerprint: String { Hex.encode(SHA256.hash(data: Self.der(caCertificate))) }

    /// Loads the CA from `directory` (creating it on first start) and makes sure the server
    /// certificate covers `names` (DNS names and IP addresses), reissuing it if not.
    public static func loadOrCreate(in directory: URL, names: [String], logger: Logger) throws -> CertificateAuthority {
        let files = Files(directory: directory)
        let (caKey, caCert) = try loadOrCreateCA(files, logger: logger)
        let wanted = Set(names)
        if let key = try? P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: files.serverKey, encoding: .utf8)),
            let cert = try? Certificate(pemEncoded: String(contentsOf: files.serverCertificate, encoding: .utf8)),
            cert.issuer == caCert.subject,
            cert.notValidAfter > Date().addingTimeInterval(30 * 86400),
            Set(coveredNames(cert)) == wanted
        {
            return CertificateAuthority(caCertificate: caCert, serverCertificate: cert, serverKeyPEM: key.pemRepresentation)
        }
        let key = P256.Signing.PrivateKey()
        let cert = try issueServerCertificate(names: names.sorted(), key: key, caKey: caKey, caCert: caCert)
        try FilePermissions.writeSecret(key.pemRepresentation, to: files.serverKey)
        try cert.serializeAsPEM().pemString.write(to: files.serverCertificate, atomically: true, encoding: .utf8)
        logger.info("issued server certificate", metadata: ["names": "\(names.sorted().joined(separator: ","))"])
        return CertificateAuthority(caCertificate: caCert, serverCertificate: cert, serverKeyPEM: key.pemRepresentation)
    }

    /// The TLS configuration of the agent endpoint: TLS 1.3 only, chain = server + CA.
    public func serverTLSConfiguration() throws -> TLSConfiguration {
        let leaf = try NIOSSLCertificate(bytes: Self.der(serverCertificate), format: .der)
        let ca = try NIOSSLCertificate(bytes: Self.der(caCertificate), format: .der)
        let key = try NIOSSLPrivateKey(bytes: Array(serverKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(leaf), .certificate(ca)],
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv13
        return configuration
    }

    /// The CA certificate in PEM, for administrators and tests.
    public var caPEM: String { (try? caCertificate.serializeAsPEM().pemString) ?? "" }

    static func der(_ certificate: Certificate) -> [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(certificate)
        return serializer.serializedBytes
    }

    static func coveredNames(_ certificate: Certificate) -> [String] {
        guard let san = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return san.compactMap { name in
            switch name {
            case .dnsName(let dns): dns
            case .ipAddress(let octets): IPAddressText.format(Array(octets.bytes))
            default: nil
            }
        }
    }

    struct Files {
        let directory: URL
        var caKey: URL { directory.appendingPathComponent("ca-key.pem") }
        var caCertificate: URL { directory.appendingPathComponent("ca.pem") }
        var serverKey: URL { directory.appendingPathComponent("server-key.pem") }
        var serverCertificate: URL { directory.appendingPathComponent("server.pem") }
    }
}
