import ArgumentParser
import Foundation

/// Where the admin API is and the token for it: flags, then PIGGYBACK_SERVER /
/// PIGGYBACK_TOKEN, then the local defaults (`http://127.0.0.1:7080`, `./piggyback-data/admin-token`).
struct AdminOptions: ParsableArguments {
    @Option(name: .long, help: "Admin API URL (default: $PIGGYBACK_SERVER or http://127.0.0.1:7080).")
    var server: String?

    @Option(name: .long, help: "Admin token (default: $PIGGYBACK_TOKEN or ./piggyback-data/admin-token).")
    var token: String?

    @Flag(name: .long, help: "Print the API's JSON (stable, documented in docs/JSON.md).")
    var json = false

    func client() throws -> AdminClient {
        let environment = ProcessInfo.processInfo.environment
        let text = server ?? environment["PIGGYBACK_SERVER"] ?? "http://127.0.0.1:7080"
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
            throw ValidationError("--server must be the admin API's http(s) URL, e.g. http://127.0.0.1:7080")
        }
        let fileToken = try? String(contentsOfFile: "piggyback-data/admin-token", encoding: .utf8)
        guard let token = (token ?? environment["PIGGYBACK_TOKEN"] ?? fileToken)?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw ValidationError("no admin token: pass --token, set PIGGYBACK_TOKEN, or run from the directory holding piggyback-data/")
        }
        return AdminClient(base: url, token: token)
    }

    /// Prints JSON as the API returned it, pretty and with sorted keys.
    func printJSON(_ data: Data) {
        if let object = try? JSONSerialization.jsonObject(with: data),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// Decodes an API answer for the human-readable output.
func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
    try JSONDecoder().decode(type, from: data)
}

/// Left-aligned columns for terminal tables.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
