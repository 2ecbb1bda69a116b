import Foundation
import PiggybackProtocol

/// Everything a server needs to start; the CLI maps its flags onto this.
public struct ServerConfiguration: Sendable {
    /// Where the server keeps its database, CA, blobs and admin token.
    public var dataDirectory: URL
    /// Agent endpoint (TLS, WebSocket) host.
    public var listenHost: String
    /// Agent endpoint port; 0 picks a free port (tests).
    public var listenPort: Int
    /// Admin HTTP API host; loopback only by default.
    public var adminHost: String
    /// Admin HTTP API port; 0 picks a free port.
    public var adminPort: Int
    /// `sqlite` (embedded, in the data directory) or a `postgres://` URL.
    public var database: String
    /// Extra names (DNS or IP) agents reach this server by; covered by the certificate.
    public var advertise: [String]
    /// Where the server stands, reported in 1010 so agents can pick the nearest.
    public var location: (lat: Double, lon: Double)?
    /// Bytes of file data per 1030/50 chunk.
    public var chunkSize: Int
    /// Chunks in flight before the sender waits for an acknowledgement.
    public var window: Int
    /// Largest telex accepted.
    public var maxFrameSize: Int
    /// Largest single file a terminal may upload (an order's own limit may be lower).
    public var maxUploadBytes: UInt64
    /// A connection that has not authenticated (20 accepted) by then is refused and closed.
    public var authenticationTimeout: Duration
    /// UDP port answering agents' discovery broadcasts (10 → 1010); 0 disables discovery.
    public var discoveryPort: Int
    /// Wait before answering a discovery broadcast, so a server without delay is the one
    /// agents pick (set it on a backup server).
    public var discoveryDelay: Duration
    /// Serve the admin API over TLS with the server's certificate (for administrators on
    /// other hosts; clients trust the CA whose SHA-256 `/v1/health` reports).
    public var adminTLS = false
    /// Receivers of alert webhooks and their retry policy (none by default).
    public var webhooks = WebhookConfiguration()
    /// How often the blob store is swept of unreferenced content and dead temporaries.
    public var blobSweep = BlobSweepConfiguration()

    /// Defaults: `./piggyback-data`, agents on 0.0.0.0:7443, admin on 127.0.0.1:7080, SQLite,
    /// discovery on UDP 7447.
    public init(
        dataDirectory: URL = URL(fileURLWithPath: "piggyback-data"),
        listenHost: String = "0.0.0.0",
        listenPort: Int = 7443,
        adminHost: String = "127.0.0.1",
        adminPort: Int = 7080,
        database: String = "sqlite",
        advertise: [String] = [],
        location: (lat: Double, lon: Double)? = nil,
        chunkSize: Int = 256 * 1024,
        window: Int = 8,
        maxFrameSize: Int = TelexCodec.defaultMaxFrameSize,
        maxUploadBytes: UInt64 = 4 << 30,
        authenticationTimeout: Duration = .seconds(30),
        discoveryPort: Int = 7447,
        discoveryDelay: Duration = .zero
    ) {
        self.dataDirectory = dataDirectory
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.database = database
        self.advertise = advertise
        self.location = location
        self.chunkSize = chunkSize
        self.window = window
        self.maxFrameSize = maxFrameSize
        self.maxUploadBytes = maxUploadBytes
        self.authenticationTimeout = authenticationTimeout
        self.discoveryPort = discoveryPort
        self.discoveryDelay = discoveryDelay
    }

    /// The names the server certificate must cover: the listen address (or, for a
    /// wildcard listen, loopback), this host's name, and every advertised name.
    public var certificateNames: [String] {
        var names: [String] = ["localhost", "127.0.0.1", "::1"]
        if !["0.0.0.0", "::", ""].contains(listenHost) { names.append(listenHost) }
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty { names.append(host) }
        names.append(contentsOf: advertise)
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
