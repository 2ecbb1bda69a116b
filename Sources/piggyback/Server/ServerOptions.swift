import ArgumentParser
import Foundation
import PiggybackServer

/// The server's flags, shared by `server` and `quickstart`.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (database, CA, packages, collected files).")
    var data: String = "piggyback-data"

    @Option(name: .long, help: "Agent endpoint HOST:PORT (TLS WebSocket).")
    var listen: String = "0.0.0.0:7443"

    @Option(name: .long, help: "Admin API HOST:PORT (keep it on loopback unless fronted by a proxy).")
    var adminListen: String = "127.0.0.1:7080"

    @Option(name: .long, help: "`sqlite` (embedded, in DATA) or a postgres:// URL.")
    var database: String = "sqlite"

    @Option(name: .long, help: "Another name or address agents reach this server by; repeat.")
    var advertise: [String] = []

    @Option(name: .long, help: "This server's position LAT,LON, reported to agents.")
    var location: String?

    @Option(name: .long, help: "UDP port answering agents' discovery broadcasts (IPv4 broadcast, IPv6 multicast ff02::7067); 0 disables.")
    var discoveryPort: Int = 7447

    @Option(name: .long, help: "Milliseconds to wait before answering a discovery broadcast, so a server without delay wins (for a backup server).")
    var discoveryDelay: Int = 0

    @Flag(name: .long, help: "Serve the admin API over TLS (HTTPS) with the server's certificate.")
    var adminTLS = false

    @Option(name: .long, help: "Bytes of file data per chunk.")
    var chunkSize: Int = 256 * 1024

    @Option(name: .long, help: "URL that alerts are POSTed to as JSON (retried with backoff); repeat for several.")
    var alertWebhook: [String] = []

    @Option(name: .long, help: "Hours between sweeps of unreferenced content (uploads never registered) and dead upload temporaries; 0 disables.")
    var blobSweepHours: Int = 6

    @Option(name: .long, help: "Hours an unreferenced upload is kept, waiting for its `package add`.")
    var blobGraceHours: Int = 24

    @Option(name: .long, help: "Log level (trace, debug, info, notice, warning, error).")
    var logLevel: String = "info"

    func validate() throws {
        _ = try Self.hostPort(listen, flag: "--listen")
        _ = try Self.hostPort(adminListen, flag: "--admin-listen")
        if let location { _ = try Self.location(location) }
        guard (0...65535).contains(discoveryPort) else { throw ValidationError("--discovery-port must be a UDP port (1-65535), or 0 to disable discovery") }
        guard (0...10_000).contains(discoveryDelay) else { throw ValidationError("--discovery-delay must be between 0 and 10000 milliseconds") }
        guard (0...24 * 365).contains(blobSweepHours) else { throw ValidationError("--blob-sweep-hours must be between 0 (off) and 8760") }
        guard (1...24 * 365).contains(blobGraceHours) else { throw ValidationError("--blob-grace-hours must be between 1 and 8760") }
        guard (1024...(2 << 20)).contains(chunkSize) else { throw ValidationError("--chunk-size must be between 1 KiB and 2 MiB") }
        for text in alertWebhook where URL(string: text).map({ ["http", "https"].contains($0.scheme ?? "") && $0.host != nil }) != true {
            throw ValidationError("--alert-webhook must be an http(s) URL, e.g. https://hooks.example.com/piggyback; got \(text)")
        }
    }

    static func hostPort(_ text: String, flag: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be HOST:PORT, e.g. 0.0.0.0:7443")
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    static func location(_ text: String) throws -> (lat: Double, lon: Double) {
        let parts = text.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, (-90...90).contains(parts[0]), (-180...180).contains(parts[1]) else {
            throw ValidationError("--location must be LAT,LON in degrees, e.g. 35.68,139.76")
        }
        return (parts[0], parts[1])
    }

    func makeConfiguration() throws -> ServerConfiguration {
        let (host, port) = try Self.hostPort(listen, flag: "--listen")
        let (adminHost, adminPort) = try Self.hostPort(adminListen, flag: "--admin-listen")
        var configuration = ServerConfiguration(
            dataDirectory: URL(fileURLWithPath: data),
            listenHost: host, listenPort: port,
            adminHost: adminHost, adminPort: adminPort,
            database: database, advertise: advertise,
            location: try location.map(Self.location),
            chunkSize: chunkSize,
            discoveryPort: discoveryPort,
            discoveryDelay: .milliseconds(discoveryDelay)
        )
        configuration.adminTLS = adminTLS
        configuration.webhooks.urls = alertWebhook.compactMap(URL.init(string:))
        configuration.blobSweep.interval = .seconds(blobSweepHours * 3600)
        configuration.blobSweep.grace = TimeInterval(blobGraceHours * 3600)
        return configuration
    }
}
