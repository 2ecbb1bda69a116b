import Foundation

/// A server the agent was told about (enrollment token, `--server`), and where it stands
/// when that is known, so the nearest can be tried first.
public struct Candidate: Sendable, CustomStringConvertible {
    /// The agent endpoint URL (`wss://host:port/v1/session`).
    public var url: String
    /// The server's position in WGS-84 degrees, when known.
    public var location: (lat: Double, lon: Double)?

    /// Creates a candidate.
    public init(url: String, location: (lat: Double, lon: Double)? = nil) {
        self.url = url
        self.location = location
    }

    /// Parses `URL` or `URL@LAT,LON` (the form `--server` accepts), checking the URL.
    public init(parsing text: String) throws {
        var url = text.trimmingCharacters(in: .whitespaces)
        var location: (lat: Double, lon: Double)?
        if let at = url.lastIndex(of: "@") {
            let parts = url[url.index(after: at)...].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            if parts.count == 2, let lat = parts[0], let lon = parts[1] {
                guard GreatCircle.isValid((lat, lon)) else {
                    throw AgentError(.identity, "\(text): the location must be LAT,LON in degrees (latitude −90…90, longitude −180…180)")
                }
                location = (lat, lon)
                url = String(url[..<at])
            }
        }
        self.init(url: try Endpoint(url).url, location: location)
    }

    public var description: String {
        guard let location else { return url }
        return "\(url)@\(location.lat),\(location.lon)"
    }
}

/// A server to try, and why it is on the list: shown in `--trace` and `status`.
public struct LocatedServer: Sendable, CustomStringConvertible {
    /// The agent endpoint to connect to.
    public var endpoint: Endpoint
    /// Why this server, in words: `list #2`, `nearest: 12.3 km (list #3)`,
    /// `broadcast: first answer from 10.0.0.2 in 3 ms (server 1a2b3c4d)`.
    public var reason: String
    /// The method that found it.
    public var method: DiscoveryMethod
    /// The server's id, when a 1010 told it.
    public var serverID: String?
    /// The server's position, when known.
    public var location: (lat: Double, lon: Double)?

    /// Creates an entry.
    public init(endpoint: Endpoint, reason: String, method: DiscoveryMethod, serverID: String? = nil, location: (lat: Double, lon: Double)? = nil) {
        self.endpoint = endpoint
        self.reason = reason
        self.method = method
        self.serverID = serverID
        self.location = location
    }

    /// The endpoint URL.
    public var url: String { endpoint.url }

    public var description: String { "\(endpoint.url) (\(reason))" }
}
