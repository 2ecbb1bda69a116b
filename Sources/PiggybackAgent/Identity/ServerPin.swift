import Crypto
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import PiggybackProtocol

/// Pins the server CA named by the enrollment token's fingerprint.
///
/// At first contact the agent opens a bare TLS connection, takes from the presented chain
/// the certificate whose SHA-256 matches the fingerprint, and stores it as `ca.pem`. From
/// then on every session trusts that CA and nothing else (no system roots).
enum ServerPin {
    static func url(in directory: URL) -> URL { directory.appendingPathComponent("ca.pem") }

    /// The pinned CA, fetching and checking it against `fingerprint` if not yet stored.
    static func certificate(directory: URL, fingerprint: String, endpoint: Endpoint, logger: Logger) async throws -> NIOSSLCertificate {
        let file = url(in: directory)
        if let pem = try? Data(contentsOf: file), let cert = try? NIOSSLCertificate(bytes: Array(pem), format: .pem) {
            if Hex.encode(SHA256.hash(data: try cert.toDERBytes())) == fingerprint.lowercased() { return cert }
            logger.warning("stored CA does not match the enrollment fingerprint; fetching again")
        }
        let cert = try await fetch(endpoint: endpoint, fingerprint: fingerprint.lowercased())
        let pem = try pemString(cert)
        try SecretFile.write(Data(pem.utf8), to: file)
        logger.info("pinned server CA", metadata: ["sha256": "\(fingerprint)"])
        return cert
    }

    static func pemString(_ cert: NIOSSLCertificate) throws -> String {
        let der = try cert.toDERBytes()
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN CERTIFICATE-----\n\(base64)\n-----END CERTIFICATE-----\n"
    }

    /// Connects once and returns the chain member matching `fingerprint`.
    static func fetch(endpoint: Endpoint, fingerprint: String) async throws -> NIOSSLCertificate {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv13
        let context = try NIOSSLContext(configuration: tls)
        let found = Mutex<NIOSSLCertificate?>(nil)
        let hostname = endpoint.isIPAddress ? nil : endpoint.host
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: hostname) { chain, promise in
                        let match = chain.first { cert in
                            (try? Hex.encode(SHA256.hash(data: cert.toDERBytes()))) == fingerprint
                        }
                        found.withLock { $0 = match }
                        // Only the chain is read; the connection closes right after the handshake.
                        promise.succeed(match == nil ? NIOSSLVerificationResult.failed : .certificateVerified)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw AgentError(.unreachable, "cannot reach \(endpoint.host):\(endpoint.port) to pin its CA: \(error)")
        }
        // Wait for the handshake to settle (up to 10 s: a slow link or a loaded terminal), then close.
        for _ in 0..<500 where found.withLock({ $0 }) == nil && channel.isActive {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await channel.close()
        guard let cert = found.withLock({ $0 }) else {
            throw AgentError(
                .untrustedServer,
                "\(endpoint.host):\(endpoint.port) does not present the CA with SHA-256 \(fingerprint) from the enrollment token; refusing to talk to it"
            )
        }
        return cert
    }
}
