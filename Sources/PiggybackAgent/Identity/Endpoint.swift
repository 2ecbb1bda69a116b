import Foundation

/// A server endpoint URL (`wss://host:port/v1/session`) taken apart.
public struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// Host name or IP literal (without brackets).
    public var host: String
    /// TCP port.
    public var port: Int
    /// The full URL.
    public var url: String

    /// Parses a `wss://` URL; a bare `host:port` is taken as `wss://host:port/v1/session`.
    public init(_ text: String) throws {
        var text = text
        if !text.contains("://") { text = "wss://\(text)/v1/session" }
        guard var components = URLComponents(string: text), components.scheme == "wss", let host = components.host, !host.isEmpty else {
            throw AgentError(.identity, "\(text) is not a wss:// server URL (e.g. wss://mgmt.example.com:7443/v1/session)")
        }
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        self.port = components.port ?? 443
        if components.path.isEmpty { components.path = "/v1/session" }
        self.url = components.string ?? text
    }

    /// Whether the host is an IP literal (no SNI, no DNS name to verify).
    public var isIPAddress: Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }

    /// The request target of the WebSocket upgrade: the URL's path and query.
    public var requestPath: String {
        guard let components = URLComponents(string: url), !components.percentEncodedPath.isEmpty else { return "/v1/session" }
        return components.percentEncodedPath + (components.percentEncodedQuery.map { "?\($0)" } ?? "")
    }

    public var description: String { url }
}
