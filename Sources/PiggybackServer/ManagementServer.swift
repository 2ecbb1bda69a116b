import Foundation
import Hummingbird
import HummingbirdTLS
import NIOCore
import Logging
import PiggybackProtocol
import ServiceLifecycle

/// The management server: agent endpoint (TLS WebSocket), admin API and storage.
///
/// Create it, put ``services`` into one `ServiceGroup`, and await ``ready()`` for the bound
/// ports. Graceful shutdown stops the admin API, then the agent endpoint (finishing
/// sessions in progress), then closes the database.
public final class ManagementServer: Sendable {
    /// The configuration it was started with.
    public let configuration: ServerConfiguration
    /// The admin bearer token (created on first start).
    public let adminToken: AdminToken
    /// The CA and server certificate.
    public let authority: CertificateAuthority
    /// This server's stable id, reported in 1010.
    public let serverID: String
    /// The services to run, in start order.
    public let services: [any Service]
    let context: ServerContext
    let ports: PortsBox

    /// Prepares the data directory, CA, database and both listeners (not yet running).
    public init(configuration: ServerConfiguration, logger: Logger) async throws {
        let directory = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ServerError(.configuration, "cannot create the data directory \(directory.path): \(error)")
        }
        self.configuration = configuration
        self.serverID = try Self.loadOrCreateServerID(in: directory)
        self.adminToken = try AdminToken.loadOrCreate(in: directory)
        self.authority = try CertificateAuthority.loadOrCreate(in: directory, names: configuration.certificateNames, logger: logger)
        let store = try await ServerStore.open(database: configuration.database, dataDirectory: directory, logger: logger)
        do {
            let blobs = try BlobStore(root: directory)
            let context = ServerContext(
                configuration: configuration, serverID: serverID, store: store, blobs: blobs,
                signer: try PackageSigner.loadOrCreate(in: directory), authority: authority, logger: logger
            )
            self.context = context
            let ports = PortsBox()
            self.ports = ports
            let names = configuration.advertise.isEmpty ? Self.defaultAdvertised(configuration) : configuration.advertise
            let agents = try AgentEndpoint.application(context: context) { port in
                context.endpoints.set(port: port, names: names)
                await ports.set(agent: port)
            }
            let admin = try Self.adminApplication(context: context, token: adminToken, ports: ports)
            // Discovery last: on shutdown it stops first, so no agent is sent to a closing server.
            let sweeper = BlobSweeper(configuration: configuration.blobSweep, blobs: blobs, store: store, metrics: context.metrics, logger: logger)
            self.services = [StoreCloser(store: store), sweeper, context.alerts.webhooks, agents, admin, DiscoveryResponder(context: context)]
        } catch {
            await store.close()
            throw error
        }
    }

    /// The admin API listener, over TLS when configured.
    static func adminApplication(context: ServerContext, token: AdminToken, ports: PortsBox) throws -> any Service {
        let configuration = context.configuration
        let router = AdminAPI(context: context, token: token).router()
        let address = ApplicationConfiguration(address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: "piggyback-admin")
        let onRunning: @Sendable (any Channel) async -> Void = { channel in await ports.set(admin: channel.localAddress?.port ?? 0) }
        guard configuration.adminTLS else {
            return Application(router: router, configuration: address, onServerRunning: onRunning, logger: context.logger)
        }
        return Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: context.authority.serverTLSConfiguration()),
            configuration: address, onServerRunning: onRunning, logger: context.logger
        )
    }

    /// Waits until both listeners are bound; returns (agent port, admin port).
    public func ready() async -> (agent: Int, admin: Int) {
        await ports.wait()
    }

    /// Closes the database of a server whose services never ran (they close it themselves
    /// on graceful shutdown).
    public func close() async {
        await context.store.close()
    }

    /// The agent endpoint URLs the server advertises (after ``ready()``).
    public var endpoints: [String] { context.endpoints.urls }

    /// The names put into the agent URLs of enrollment tokens, when none are advertised.
    static func defaultAdvertised(_ configuration: ServerConfiguration) -> [String] {
        if !["0.0.0.0", "::", ""].contains(configuration.listenHost) { return [configuration.listenHost] }
        let host = ProcessInfo.processInfo.hostName
        return host.isEmpty ? ["127.0.0.1"] : ["127.0.0.1", host]
    }

    static func loadOrCreateServerID(in directory: URL) throws -> String {
        let url = directory.appendingPathComponent("server-id")
        if let text = try? String(contentsOf: url, encoding: .utf8), !text.isEmpty {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let id = UUID().uuidString.lowercased()
        try (id + "\n").write(to: url, atomically: true, encoding: .utf8)
        return id
    }
}

/// Closes the database after everything else has stopped.
struct StoreCloser: Service {
    let store: ServerStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}

/// The ports the listeners bound, for callers that asked for port 0.
actor PortsBox {
    var agent: Int?
    var admin: Int?
    var waiters: [CheckedContinuation<(agent: Int, admin: Int), Never>] = []

    func set(agent port: Int) { agent = port; resume() }
    func set(admin port: Int) { admin = port; resume() }

    func wait() async -> (agent: Int, admin: Int) {
        if let agent, let admin { return (agent, admin) }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func resume() {
        guard let agent, let admin else { return }
        for waiter in waiters { waiter.resume(returning: (agent, admin)) }
        waiters = []
    }
}
