import Foundation
import PiggybackProtocol

/// What an administrator says about a package when adding it, checked before anything is
/// stored, so a malformed region or rule is refused at `package add` with a clear message.
struct PackageSpec: Sendable {
    /// How the terminal installs the package.
    enum Kind: String, Sendable, CaseIterable {
        case files, script, deb
    }

    var name: String
    var version: String
    var kind: Kind
    var target: String
    var script: String
    var check: String
    var timeoutSeconds: Int
    var region: Region?
    var rule: InventoryQuery?
    var supersedes: [String]

    /// Validates the administrator's request.
    init(_ request: AdminJSON.PackageRequest) throws {
        func invalid(_ message: String) -> ServerError { ServerError(.invalid, message) }
        name = request.name.trimmingCharacters(in: .whitespaces)
        version = request.version.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, !version.isEmpty else { throw invalid("a package needs a name and a version") }
        guard name.count <= 200, version.count <= 100, !name.contains(","), !name.contains("@") else {
            throw invalid("package names hold no ',' or '@' and at most 200 characters; versions at most 100")
        }
        guard let kind = Kind(rawValue: request.kind ?? "files") else {
            throw invalid("kind \(request.kind ?? "") is not one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.kind = kind
        target = request.target ?? ""
        script = request.script ?? ""
        check = request.check ?? ""
        timeoutSeconds = request.timeout_s ?? 0
        guard (0...86_400).contains(timeoutSeconds) else { throw invalid("timeout must be between 0 (terminal default) and 86400 s") }
        // An empty files target means the terminal's own data area (DATA/files/NAME).
        if !target.isEmpty {
            guard target.hasPrefix("/"), !target.split(separator: "/").contains(".."), target != "/" else {
                throw invalid("--target must be an absolute directory on the terminal without '..' (e.g. /opt/maps)")
            }
        }
        if let text = request.region, !text.isEmpty {
            do {
                region = try Region.parse(text)
            } catch let error as ServerError {
                throw invalid("region: \(error.message)")
            }
        }
        if let text = request.rule, !text.isEmpty {
            do {
                rule = try InventoryQuery(parsing: text)
            } catch {
                throw invalid("rule (--when): \(error.message)")
            }
        }
        supersedes = (request.supersedes ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !supersedes.contains(name) else {
            throw invalid("a package does not supersede its own name; a newer version of \(name) replaces the older one anyway")
        }
    }

    /// The manifest the terminal will verify and follow.
    func manifest(sha256: String, size: Int64, serverID: String) -> WirePackageManifest {
        var manifest = WirePackageManifest()
        manifest.name = name
        manifest.version = version
        manifest.kind = kind.rawValue
        manifest.size = UInt64(size)
        manifest.sha256 = Data(Hex.decode(sha256) ?? [])
        manifest.target = target
        manifest.script = script
        manifest.check = check
        manifest.timeoutS = UInt32(timeoutSeconds)
        manifest.supersedes = supersedes
        manifest.region = region?.summary ?? ""
        manifest.serverID = serverID
        manifest.createdUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        return manifest
    }
}
