import FluentKit
import Foundation
import Logging
import ServiceLifecycle

/// What the blob store may forget, and how often it is looked at.
public struct BlobSweepConfiguration: Sendable {
    /// Time between sweeps; zero turns sweeping off.
    public var interval: Duration
    /// The first sweep, after the server started.
    public var firstDelay: Duration
    /// An unreferenced blob is kept this long after it was last written or reused: an
    /// upload waits that long for its `package add`.
    public var grace: TimeInterval
    /// A temporary file (an upload being streamed in) is removed when untouched this long.
    public var temporaryGrace: TimeInterval

    /// Defaults: every 6 h (first after 10 min); blobs kept 24 h, temporaries 1 h.
    public init(interval: Duration = .seconds(6 * 3600), firstDelay: Duration = .seconds(600), grace: TimeInterval = 24 * 3600, temporaryGrace: TimeInterval = 3600) {
        self.interval = interval
        self.firstDelay = firstDelay
        self.grace = grace
        self.temporaryGrace = temporaryGrace
    }
}

/// Keeps the blob store from growing with what nobody needs: uploads that were never
/// registered as a package, content whose package was removed, and temporary files of
/// uploads that died with the connection or the server.
///
/// A blob goes only when no package and no collected file names its digest and it has not
/// been written or reused for `grace` (``BlobStore/place(file:sha256:)`` refreshes the time
/// of a blob it finds in place), so content between its upload and its registration stays.
struct BlobSweeper: Service {
    /// What one sweep removed.
    struct Result: Sendable, Equatable {
        var blobs = 0
        var bytes: UInt64 = 0
        var temporaries = 0
    }

    let configuration: BlobSweepConfiguration
    let blobs: BlobStore
    let store: ServerStore
    let metrics: ServerMetrics
    let logger: Logger

    /// Sweeps on the configured schedule until graceful shutdown or cancellation.
    func run() async throws {
        guard configuration.interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        try? await cancelWhenGracefulShutdown {
            try await Task.sleep(for: configuration.firstDelay)
            while true {
                do {
                    let result = try await sweep()
                    metrics.add(ServerMetrics.Name.sweptFiles, result.blobs, [("kind", "blob")])
                    metrics.add(ServerMetrics.Name.sweptFiles, result.temporaries, [("kind", "temporary")])
                    metrics.add(ServerMetrics.Name.sweptBytes, Int(clamping: result.bytes))
                    if result != Result() {
                        logger.info("blob store swept", metadata: [
                            "blobs": "\(result.blobs)", "bytes": "\(result.bytes)", "temporaries": "\(result.temporaries)",
                        ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("blob sweep failed; trying again at the next interval", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: configuration.interval)
            }
        }
    }

    /// One pass over `tmp/` and `blobs/`, one two-hex-digit directory at a time (so the
    /// digests looked up in the database stay a small set).
    func sweep(now: Date = Date()) async throws -> Result {
        var result = Result()
        let fileManager = FileManager.default
        let temporary = blobs.root.appendingPathComponent("tmp")
        for name in (try? fileManager.contentsOfDirectory(atPath: temporary.path)) ?? [] {
            let url = temporary.appendingPathComponent(name)
            if let modified = Self.modified(url), now.timeIntervalSince(modified) > configuration.temporaryGrace,
               (try? fileManager.removeItem(at: url)) != nil {
                result.temporaries += 1
            }
        }
        let root = blobs.root.appendingPathComponent("blobs")
        for prefix in ((try? fileManager.contentsOfDirectory(atPath: root.path)) ?? []).sorted() where Self.isHex(prefix, count: 2) {
            try Task.checkCancellation()
            let directory = root.appendingPathComponent(prefix)
            let candidates = ((try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []).filter { name in
                guard Self.isHex(name, count: 64), name.hasPrefix(prefix) else { return false }
                return Self.modified(directory.appendingPathComponent(name)).map { now.timeIntervalSince($0) > configuration.grace } ?? false
            }
            guard !candidates.isEmpty else { continue }
            let referenced = try await referencedDigests(prefix: prefix)
            for name in candidates where !referenced.contains(name) {
                let url = directory.appendingPathComponent(name)
                // Reused since the listing (an upload of the same content): keep it.
                guard let modified = Self.modified(url), now.timeIntervalSince(modified) > configuration.grace else { continue }
                let size = blobs.size(sha256: name) ?? 0
                if (try? fileManager.removeItem(at: url)) != nil {
                    result.blobs += 1
                    result.bytes += size
                }
            }
        }
        return result
    }

    /// The digests starting with `prefix` that a package or a collected file names.
    func referencedDigests(prefix: String) async throws -> Set<String> {
        // Digests are lowercase hex, and "g" sorts after every hex digit.
        let upper = prefix + "g"
        let packages = try await PackageRecord.query(on: store.db)
            .filter(\.$sha256 >= prefix).filter(\.$sha256 < upper).all(\.$sha256)
        let files = try await CollectedFileRecord.query(on: store.db)
            .filter(\.$sha256 >= prefix).filter(\.$sha256 < upper).unique().all(\.$sha256)
        return Set(packages).union(files)
    }

    static func modified(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    static func isHex(_ name: String, count: Int) -> Bool {
        name.utf8.count == count && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
