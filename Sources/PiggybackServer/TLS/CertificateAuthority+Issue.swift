import Crypto
import Foundation
import Logging
import PiggybackProtocol
import SwiftASN1
import X509

extension CertificateAuthority {
    static func loadOrCreateCA(_ files: Files, logger: Logger) throws -> (P256.Signing.PrivateKey, Certificate) {
        if FileManager.default.fileExists(atPath: files.caKey.path) {
            do {
                let key = try P256.Signing.PrivateKey(pemRepresentation: String(contentsOf: files.caKey, encoding: .utf8))
                let cert = try Certificate(pemEncoded: String(contentsOf: files.caCertificate, encoding: .utf8))
                return (key, cert)
            } catch {
                throw ServerError(
                    .configuration,
                    "the CA in \(files.directory.path) cannot be read (\(error)); restore ca-key.pem and ca.pem from backup — a new CA would cut off every enrolled agent"
                )
            }
        }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Piggyback")
            CommonName("Piggyback CA \(Hex.encode(SHA256.hash(data: key.publicKey.rawRepresentation)).prefix(12))")
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(20 * 365 * 86400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        try FilePermissions.writeSecret(key.pemRepresentation, to: files.caKey)
        try cert.serializeAsPEM().pemString.write(to: files.caCertificate, atomically: true, encoding: .utf8)
        logger.notice("created server CA", metadata: ["path": "\(files.caCertificate.path)"])
        return (key, cert)
    }

    static func issueServerCertificate(
        names: [String],
        key: P256.Signing.PrivateKey,
        caKey: P256.Signing.PrivateKey,
        caCert: Certificate
    ) throws -> Certificate {
        let alternativeNames: [GeneralName] = names.map { name in
            if let octets = IPAddressText.parse(name) {
                return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(octets)))
            }
            return .dnsName(name)
        }
        let subject = try DistinguishedName { CommonName(names.first(where: { IPAddressText.parse($0) == nil }) ?? "piggyback") }
        let now = Date()
        return try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(825 * 86400),
            issuer: caCert.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternativeNames)
            },
            issuerPrivateKey: .init(caKey)
        )
    }
}
