import Crypto
import Foundation
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// Issue 5 end to end: packages chosen by label assignment, inventory rule and position,
/// signed, downloaded, installed by the agent after the session, reported with the next
/// 30, never delivered twice.
@Suite struct DeliveryEndToEndTests {
    /// A tar.gz holding `files` (name → content), made with the system's tar.
    static func tarball(_ files: [String: String]) throws -> Data {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pb-tar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        let content = work.appendingPathComponent("content")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: content.appendingPathComponent(name)) }
        let archive = work.appendingPathComponent("p.tar.gz")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = ["-czf", archive.path, "-C", content.path, "."]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("tar failed") }
        return try Data(contentsOf: archive)
    }

    static func escaped(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    func deliveries(_ server: TestServer, device: String) async throws -> [String: String] {
        let rows = try await server.adminJSON("GET", "/v1/deliveries?device=\(device)") as? [[String: Any]] ?? []
        return Dictionary(rows.map { ("\($0["package"] as? String ?? "")@\($0["version"] as? String ?? "")", $0["state"] as? String ?? "") },
                          uniquingKeysWith: { a, _ in a })
    }

    @Test func labelAssignmentThenRuleThenUpgrade() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken(uses: 2)
        let osaka = TestAgent()
        let other = TestAgent()
        defer { osaka.remove(); other.remove() }
        let id = try osaka.enroll(token)
        let otherID = try other.enroll(token)
        _ = try await osaka.run()
        _ = try await other.run()
        _ = try await server.adminJSON("PUT", "/v1/devices/\(id)/labels", json: ["labels": ["site": "osaka"]])

        _ = try await server.adminJSON("PUT", "/v1/packages/maps/1?kind=files", body: try Self.tarball(["data.txt": "v1"]))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "maps", "label": "site=osaka"])
        // Chosen by rule: only where maps 1 is installed (so only after the first delivery).
        let rule = Self.escaped("piggyback.maps == 1")
        _ = try await server.adminJSON("PUT", "/v1/packages/addon/1?kind=files&rule=\(rule)", body: try Self.tarball(["addon.txt": "a"]))
        #expect(try await deliveries(server, device: id) == ["maps@1": "pending"])

        let first = try await osaka.run()
        #expect(first.offered == ["maps@1"])
        #expect(first.installed == ["maps@1: installed"])
        let maps = osaka.directory.appendingPathComponent("files/maps")
        #expect(try String(contentsOf: maps.appendingPathComponent("data.txt"), encoding: .utf8) == "v1")
        #expect(try await deliveries(server, device: id)["maps@1"] == "downloaded")

        let second = try await osaka.run()
        #expect(second.offered == ["addon@1"])
        #expect(try await deliveries(server, device: id)["maps@1"] == "installed")
        let third = try await osaka.run()
        #expect(third.offered.isEmpty)
        #expect(try await deliveries(server, device: id) == ["maps@1": "installed", "addon@1": "installed"])

        // An upgrade: only the newest version goes, into the same target.
        _ = try await server.adminJSON("PUT", "/v1/packages/maps/2?kind=files", body: try Self.tarball(["data.txt": "v2"]))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "maps", "version": "2", "label": "site=osaka"])
        let fourth = try await osaka.run()
        #expect(fourth.offered == ["maps@2"])
        #expect(try String(contentsOf: maps.appendingPathComponent("data.txt"), encoding: .utf8) == "v2")

        // The other terminal carries no label and no maps: nothing, ever.
        let untouched = try await other.run()
        #expect(untouched.offered.isEmpty)
        #expect(try await deliveries(server, device: otherID).isEmpty)
        try await server.stop()
    }

    @Test func regionalDataFollowsThePositionAndReplacesTheOld() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-agent-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let nowhere = TestAgent(directory: directory)
        let id = try nowhere.enroll(token)
        _ = try await nowhere.run()

        let kanto = Self.escaped("circle:35.68,139.76,50km")
        let kansai = Self.escaped("circle:34.69,135.50,50km")
        _ = try await server.adminJSON("PUT", "/v1/packages/tiles-kanto/1?region=\(kanto)&supersedes=tiles-kansai", body: try Self.tarball(["t": "kanto"]))
        _ = try await server.adminJSON("PUT", "/v1/packages/tiles-kansai/1?region=\(kansai)&supersedes=tiles-kanto", body: try Self.tarball(["t": "kansai"]))
        let (status, body) = try await server.admin("PUT", "/v1/packages/bad/1?region=\(Self.escaped("circle:95,10,5km"))", body: Data("x".utf8))
        #expect(status == 400)
        #expect(String(decoding: body, as: UTF8.self).contains("region"))

        // No position known: the server asks (1060), the terminal says it does not know, nothing regional goes.
        nowhere.lines.clear()
        let unknown = try await nowhere.run()
        #expect(nowhere.lines.all.contains { $0.hasPrefix("← 1060") })
        #expect(unknown.offered.isEmpty)

        let tokyo = TestAgent(position: (35.69, 139.70, 100), directory: directory)
        let inTokyo = try await tokyo.run()
        #expect(inTokyo.offered == ["tiles-kanto@1"])
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("files/tiles-kanto/t").path))

        let osaka = TestAgent(position: (34.70, 135.49, 100), directory: directory)
        let inOsaka = try await osaka.run()
        #expect(inOsaka.offered == ["tiles-kansai@1"])
        #expect(inOsaka.installed.contains { $0.hasPrefix("tiles-kanto@1: removed") })
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("files/tiles-kanto").path))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("files/tiles-kansai/t").path))
        _ = try await osaka.run()
        let states = try await deliveries(server, device: id)
        #expect(states["tiles-kanto@1"] == "removed")
        #expect(states["tiles-kansai@1"] == "installed")
        try await server.stop()
    }

    @Test func aManifestNotSignedByThePinnedKeyIsRefused() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        let pin = agent.directory.appendingPathComponent("package-signing.pub")
        #expect(FileManager.default.fileExists(atPath: pin.path))
        // Another key pinned: the real server's signatures no longer verify.
        let stranger = Curve25519.Signing.PrivateKey().publicKey.rawRepresentation.base64EncodedString()
        try Data((stranger + "\n").utf8).write(to: pin)

        _ = try await server.adminJSON("PUT", "/v1/packages/tool/1?kind=files", body: try Self.tarball(["x": "1"]))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "tool", "all": true])
        let refused = try await agent.run()
        #expect(refused.offered == ["tool@1"])
        #expect(refused.delivered.isEmpty && refused.downloadedBytes == 0)
        #expect(refused.failed.first?.contains("signing key changed") == true)
        #expect(!FileManager.default.fileExists(atPath: agent.directory.appendingPathComponent("files/tool").path))
        _ = try await agent.run()
        let rows = try await server.adminJSON("GET", "/v1/deliveries?device=\(id)") as? [[String: Any]] ?? []
        #expect(rows.first?["state"] as? String == "failed")
        #expect((rows.first?["detail"] as? String)?.contains("signing key") == true)
        try await server.stop()
    }

    @Test func aFailingInstallIsReportedAndNotRetriedUntilAssignedAgain() async throws {
        let server = try await TestServer.start()
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        _ = try await server.adminJSON("PUT", "/v1/packages/setup/1?kind=script", body: Data("echo broken >&2\nexit 3\n".utf8))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "setup", "device": id])
        let first = try await agent.run()
        #expect(first.installed.first?.hasPrefix("setup@1: failed") == true)
        let second = try await agent.run()
        #expect(second.offered.isEmpty)
        let rows = try await server.adminJSON("GET", "/v1/deliveries?package=setup") as? [[String: Any]] ?? []
        #expect(rows.first?["state"] as? String == "failed")
        #expect((rows.first?["detail"] as? String)?.contains("exit 3") == true)
        #expect((rows.first?["detail"] as? String)?.contains("broken") == true)
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "setup", "device": id])
        #expect(try await agent.run().offered == ["setup@1"])
        try await server.stop()
    }

    @Test func aDownloadCutHalfwayResumesWithoutResendingMoreThanAChunk() async throws {
        let chunk = 64 * 1024
        let server = try await TestServer.start(chunkSize: chunk)
        let agent = TestAgent()
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        var content = Data(count: 8 << 20)
        content.withUnsafeMutableBytes { buffer in
            for index in stride(from: 0, to: buffer.count, by: 8) { buffer.storeBytes(of: UInt64.random(in: 0...UInt64.max), toByteOffset: index, as: UInt64.self) }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pb-big-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        try content.write(to: work.appendingPathComponent("big.bin"))
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        tar.arguments = ["-cf", work.appendingPathComponent("big.tar").path, "-C", work.path, "big.bin"]
        try tar.run()
        tar.waitUntilExit()
        let archive = try Data(contentsOf: work.appendingPathComponent("big.tar"))
        _ = try await server.adminJSON("PUT", "/v1/packages/big/1?kind=files", body: archive)
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "big", "device": id])

        // Cut the session once about half the package is on disk.
        let downloads = agent.directory.appendingPathComponent("downloads")
        let session = Task { try await agent.run() }
        var partial: UInt64 = 0
        for _ in 0..<3000 {
            let files = (try? FileManager.default.contentsOfDirectory(at: downloads, includingPropertiesForKeys: [.fileSizeKey])) ?? []
            partial = files.compactMap { (try? $0.resourceValues(forKeys: [.fileSizeKey]).fileSize).map(UInt64.init) }.max() ?? 0
            if partial >= UInt64(archive.count / 2) { break }
            try await Task.sleep(for: .milliseconds(2))
        }
        session.cancel()
        _ = try? await session.value
        let files = try FileManager.default.contentsOfDirectory(at: downloads, includingPropertiesForKeys: [.fileSizeKey])
        let kept = UInt64(try files.first?.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0)
        #expect(kept > 0 && kept < UInt64(archive.count))

        let resumed = try await agent.run()
        #expect(resumed.delivered == ["big@1"])
        let resent = Int64(resumed.downloadedBytes) - (Int64(archive.count) - Int64(kept))
        #expect(resent >= 0 && resent <= Int64(chunk))
        let installed = try Data(contentsOf: agent.directory.appendingPathComponent("files/big/big.bin"))
        #expect(installed == content)
        try await server.stop()
    }

    @Test func askConsentIsAnsweredOnTheControlSocket() async throws {
        let server = try await TestServer.start()
        let broker = ConsentBroker()
        let agent = TestAgent(consent: .ask, consentBroker: broker) { configuration in
            configuration.consentPrompt.detectDesktop = false
            configuration.consentPrompt.interactiveTerminal = false
            configuration.consentPrompt.timeout = .seconds(30)
        }
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        let socket = agent.directory.appendingPathComponent("control.sock").path
        let control = Task { try await ControlServer(path: socket, logger: .init(label: "test.control"), consent: broker) { _ in "" }.run() }
        defer { control.cancel() }
        _ = try await server.adminJSON("PUT", "/v1/packages/tool/1?kind=files", body: try Self.tarball(["x": "1"]))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "tool", "device": id])

        /// Waits for the question, checks it names the package, answers it over the socket.
        func answer(_ answer: ConsentAnswer) -> Task<String, any Error> {
            Task {
                for _ in 0..<500 where await broker.pending() == nil { try await Task.sleep(for: .milliseconds(20)) }
                let question = try await ControlClient.send(.consent(.show), path: socket)
                #expect(question.contains("\"name\" : \"tool\"") || question.contains("\"name\":\"tool\""), "\(question)")
                return try await ControlClient.send(.consent(.answer(answer, id: nil)), path: socket)
            }
        }
        let no = answer(.defer)
        let later = try await agent.run()
        #expect(try await no.value.hasPrefix("ok"))
        #expect(later.deferred == ["tool@1"] && later.downloadedBytes == 0)
        #expect(agent.lines.all.contains { $0.contains("consent: defer via control socket") })

        let yes = answer(.accept)
        let now = try await agent.run()
        #expect(try await yes.value.hasPrefix("ok"))
        #expect(now.delivered == ["tool@1"])
        #expect(now.installed == ["tool@1: installed"])
        try await server.stop()
    }

    @Test func aReinstalledAgentDoesNotFetchWhatIsAlreadyInPlace() async throws {
        let server = try await TestServer.start()
        let token = try await server.enrollToken(uses: 2)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-opt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let roots: (inout AgentConfiguration) -> Void = { $0.installer.allowedTargetRoots = [root.path] }
        let before = TestAgent(configure: roots)
        _ = try before.enroll(token)
        _ = try await before.run()
        let target = Self.escaped(root.appendingPathComponent("maps").path)
        _ = try await server.adminJSON("PUT", "/v1/packages/maps/1?kind=files&target=\(target)", body: try Self.tarball(["data.txt": "v1"]))
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "maps", "all": true])
        #expect(try await before.run().installed == ["maps@1: installed"])

        // The agent is reinstalled: a new data directory and identity; /opt-like content stays.
        before.remove()
        let after = TestAgent(configure: roots)
        defer { after.remove() }
        let id = try after.enroll(token)
        let first = try await after.run()
        #expect(first.offered == ["maps@1"])
        #expect(first.delivered == ["maps@1"] && first.downloadedBytes == 0)
        _ = try await after.run()
        #expect(try await deliveries(server, device: id) == ["maps@1": "installed"])
        #expect(try String(contentsOf: root.appendingPathComponent("maps/data.txt"), encoding: .utf8) == "v1")
        try await server.stop()
    }

    /// Root only (a small tmpfs); skipped elsewhere unless CI=true, where it must run.
    static var canMount: Bool { getuid() == 0 || ProcessInfo.processInfo.environment["CI"] == "true" }

    @Test(.enabled(if: canMount, "needs root to mount a small tmpfs"))
    func aFullDiskFailsTheItemCleanlyAndTheNextSessionResumes() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("pb-full-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: mountPoint, withIntermediateDirectories: true)
        func mount(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/mount")
            process.arguments = arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestFailure("mount \(arguments) failed") }
        }
        try mount(["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint.path])
        defer {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/umount")
            process.arguments = [mountPoint.path]
            try? process.run()
            process.waitUntilExit()
            try? FileManager.default.removeItem(at: mountPoint)
        }
        let server = try await TestServer.start()
        let agent = TestAgent(directory: mountPoint.appendingPathComponent("agent"))
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        var content = Data(count: 4 << 20)
        content.withUnsafeMutableBytes { buffer in
            for index in stride(from: 0, to: buffer.count, by: 8) { buffer.storeBytes(of: UInt64.random(in: 0...UInt64.max), toByteOffset: index, as: UInt64.self) }
        }
        _ = try await server.adminJSON("PUT", "/v1/packages/big/1?kind=script", body: Data("exit 0\n".utf8) + content)
        _ = try await server.adminJSON("POST", "/v1/assignments", json: ["package": "big", "device": id])

        let full = try await agent.run()
        #expect(full.delivered.isEmpty)
        #expect(full.failed.first?.hasPrefix("big@1") == true, "\(full.failed)")
        let partial = try FileManager.default.contentsOfDirectory(at: agent.directory.appendingPathComponent("downloads"), includingPropertiesForKeys: nil)
        let kept = try partial.first.map { UInt64(try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) } ?? 0
        #expect(kept > 0, "the partial stays for the next session")
        let rows = try await server.adminJSON("GET", "/v1/deliveries?device=\(id)") as? [[String: Any]] ?? []
        #expect(rows.first?["state"] as? String == "failed")
        #expect((rows.first?["detail"] as? String)?.contains("storage") == true)

        try mount(["-o", "remount,size=16m", mountPoint.path])
        let resumed = try await agent.run()
        #expect(resumed.delivered == ["big@1"])
        #expect(UInt64(resumed.downloadedBytes) <= UInt64(content.count + 7) - kept + 64 * 1024)
        try await server.stop()
    }
}
