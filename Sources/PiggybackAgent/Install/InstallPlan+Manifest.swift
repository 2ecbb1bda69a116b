import Foundation
import PiggybackProtocol

extension InstallPlan {
    /// The plan from a verified manifest: an empty files target means the terminal's own
    /// data area (`DATA/files/NAME`), a zero timeout the installer's default.
    init(manifest: WirePackageManifest, dataDirectory: URL) {
        let kind = PackageKind(rawValue: manifest.kind) ?? .files
        var target = manifest.target
        if target.isEmpty, kind == .files {
            target = dataDirectory.appendingPathComponent("files").appendingPathComponent(DownloadStore.safe(manifest.name)).path
        }
        self.init(name: manifest.name, version: manifest.version, kind: kind, target: target, script: manifest.script, check: manifest.check)
        if manifest.timeoutS > 0 { timeout = .seconds(Int(manifest.timeoutS)) }
        sha256 = Hex.encode(manifest.sha256)
    }
}
