import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small client for the admin HTTP API; every `piggyback admin` subcommand uses it.
struct AdminClient: Sendable {
    let base: URL
    let token: String

    /// An admin API error, with the server's code and message.
    struct Failure: Error, CustomStringConvertible {
        let status: Int
        let code: String
        let message: String
        var description: String { "\(message) (\(code), HTTP \(status))" }
    }

    func request(_ method: String, _ path: String, query: [String: String] = [:], json: (any Encodable)? = nil) throws -> URLRequest {
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)
        if !query.isEmpty { components?.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        guard let url = components?.url else { throw Failure(status: 0, code: "invalid", message: "bad admin URL \(base)") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONEncoder().encode(json)
        }
        return request
    }

    /// Sends a request and returns the body of a 2xx answer.
    func send(_ method: String, _ path: String, query: [String: String] = [:], json: (any Encodable)? = nil) async throws -> Data {
        let request = try request(method, path, query: query, json: json)
        let (data, response) = try await perform { try await URLSession.shared.data(for: request) }
        return try check(data, response)
    }

    /// Streams a file as the request body (PUT).
    func upload(_ path: String, file: URL) async throws -> Data {
        var request = try request("PUT", path)
        request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await perform { try await URLSession.shared.upload(for: request, fromFile: file) }
        return try check(data, response)
    }

    func perform(_ body: () async throws -> (Data, URLResponse)) async throws -> (Data, URLResponse) {
        do {
            return try await body()
        } catch {
            throw Failure(status: 0, code: "unreachable", message: "cannot reach the admin API at \(base): \(error.localizedDescription); is `piggyback server` running?")
        }
    }

    func check(_ data: Data, _ response: URLResponse) throws -> Data {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard (200..<300).contains(status) else {
            struct Body: Decodable { struct Inner: Decodable { var code: String?; var message: String? }; var error: Inner }
            let body = try? JSONDecoder().decode(Body.self, from: data)
            throw Failure(
                status: status, code: body?.error.code ?? "http_\(status)",
                message: body?.error.message ?? String(decoding: data.prefix(500), as: UTF8.self)
            )
        }
        return data
    }
}
