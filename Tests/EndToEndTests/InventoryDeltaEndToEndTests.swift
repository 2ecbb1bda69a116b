import Foundation
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// Inventory over the wire: full first, then only what changed, acknowledged by version;
/// the server keeps the current items and their history.
@Suite struct InventoryEndToEndTests {
    /// A small fixture filesystem for the collectors.
    func fixture() throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-fs-\(UUID().uuidString)")
        let files = [
            "etc/os-release": "ID=debian\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n",
            "proc/sys/kernel/hostname": "field-7\n",
            "proc/cpuinfo": "processor\t: 0\nmodel name\t: Test CPU\n\n",
            "proc/meminfo": "MemTotal:       4000000 kB\n",
            "proc/mounts": "/dev/sda1 / ext4 rw 0 0\n",
        ]
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try packages(root, ["curl": "7.88.1-10", "openssl": "3.0.9-1"])
        return root
    }

    func packages(_ root: URL, _ packages: [String: String]) throws {
        let url = root.appendingPathComponent("var/lib/dpkg/status")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let text = packages.sorted { $0.key < $1.key }.map { "Package: \($0.key)\nStatus: install ok installed\nArchitecture: amd64\nVersion: \($0.value)\nInstalled-Size: 100\n" }
        try text.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    func inventoryLine(_ agent: TestAgent) -> String? {
        agent.lines.all.first { $0.hasPrefix("→ 30 ") }
    }

    func payload(_ line: String?) -> Int {
        line.flatMap { Int($0.split(separator: " ")[3]) } ?? -1
    }

    @Test func fullThenDeltaThenNothing() async throws {
        let root = try fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await TestServer.start()
        let agent = TestAgent(inventoryRoot: root)
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())

        let first = try await agent.run()
        #expect(first.inventory.hasPrefix("full, version 1"))
        var detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        #expect((detail?["inventory"] as? [String: [String: String]])?["software"]?["curl"] == "7.88.1-10 amd64 100")

        agent.lines.clear()
        let second = try await agent.run()
        #expect(second.inventory == "unchanged (version 1)")
        #expect(payload(inventoryLine(agent)) <= 64)

        try packages(root, ["curl": "8.5.0-1", "wget": "1.21.3-1"])
        agent.lines.clear()
        let third = try await agent.run()
        #expect(third.inventory.hasPrefix("delta 1 → 2"))
        #expect(payload(inventoryLine(agent)) <= 200)
        detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        let software = (detail?["inventory"] as? [String: [String: String]])?["software"]
        #expect(software == ["curl": "8.5.0-1 amd64 100", "wget": "1.21.3-1 amd64 100"])
        #expect((detail?["device"] as? [String: Any])?["inventory_version"] as? Int == 2)

        let history = try await server.adminJSON("GET", "/v1/devices/\(id)/history") as? [[String: Any]]
        let latest = history?.filter { $0["version"] as? Int == 2 } ?? []
        #expect(latest.count == 3)
        #expect(latest.contains { $0["key"] as? String == "curl" && $0["old"] as? String == "7.88.1-10 amd64 100" && $0["new"] as? String == "8.5.0-1 amd64 100" })
        #expect(latest.contains { $0["key"] as? String == "openssl" && $0["new"] == nil })

        func matching(_ expression: String) async throws -> [String] {
            let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
            return (try await server.adminJSON("GET", "/v1/devices?where=\(encoded)") as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        }
        #expect(try await matching("software.curl < 8.6") == [id])
        #expect(try await matching("software.curl < 8.5").isEmpty)
        #expect(try await matching("software.openssl missing and memory.total >= 4GB and os.id == debian") == [id])
        let (status, _) = try await server.admin("GET", "/v1/devices?where=software.curl%20%3C")
        #expect(status == 400)

        agent.lines.clear()
        let fourth = try await agent.run()
        #expect(fourth.inventory == "unchanged (version 2)")
        try await server.stop()
    }

    @Test func lostBaseMeansFullUpload() async throws {
        let root = try fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await TestServer.start()
        let agent = TestAgent(inventoryRoot: root)
        defer { agent.remove() }
        _ = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()
        // The terminal lost its registry (reinstalled): it cannot compute a delta.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(at: agent.directory.appendingPathComponent("registry.sqlite" + suffix)) }
        let again = try await agent.run()
        #expect(again.inventory == "full, version 2 (version 1 unknown here)")
        try await server.stop()
    }

    /// Offline: the timer's collections log what changed; a session sends the latest
    /// collection while it is recent, and collects anew once it is stale.
    @Test func offlineCollectionsAreLoggedAndSent() async throws {
        let root = try fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await TestServer.start()
        let agent = TestAgent(inventoryRoot: root, inventoryMaxAge: .seconds(3600))
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())

        let first = try await agent.agent.recordInventory()
        #expect(first.first && first.changes.isEmpty)
        try packages(root, ["curl": "8.5.0-1", "openssl": "3.0.9-1"])
        let second = try await agent.agent.recordInventory()
        #expect(second.changes.map(\.key) == ["curl"])
        #expect(second.changes.first?.old == "7.88.1-10 amd64 100" && second.changes.first?.new == "8.5.0-1 amd64 100")
        let log = try await agent.agent.localInventoryChanges()
        #expect(log.count == 1 && log.first?.section == "software")

        // The package changes again after the last collection: a session within the
        // maximum age sends what the timer recorded, not a new reading.
        try packages(root, ["curl": "8.6.0-1", "openssl": "3.0.9-1"])
        let session = try await agent.run()
        #expect(session.inventory.hasSuffix("from the last offline collection"))
        let detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        #expect((detail?["inventory"] as? [String: [String: String]])?["software"]?["curl"] == "8.5.0-1 amd64 100")
        try await server.stop()
    }

    /// 1020 asks for the sections set for the device, else its labels, else the fleet; the
    /// agent sends only those, and the server keeps the others as they were.
    @Test func serverChoosesSections() async throws {
        let root = try fixture()
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try await TestServer.start()
        let agent = TestAgent(inventoryRoot: root)
        defer { agent.remove() }
        let id = try agent.enroll(try await server.enrollToken())
        _ = try await agent.run()  // registers the device: full inventory, every section

        _ = try await server.adminJSON("PUT", "/v1/inventory-requests", json: ["scope": "fleet", "sections": ["os"]])
        _ = try await server.adminJSON("PUT", "/v1/devices/\(id)/labels", json: ["labels": ["site": "osaka"]])
        _ = try await server.adminJSON("PUT", "/v1/inventory-requests", json: ["scope": "label:site=osaka", "sections": ["software", "memory"]])
        var detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        #expect(detail?["inventory_request"] as? [String] == ["memory", "software"])
        #expect(detail?["labels"] as? [String: String] == ["site": "osaka"])

        // Only the requested sections are compared: a software change goes out…
        try packages(root, ["curl": "8.5.0-1", "openssl": "3.0.9-1"])
        let labelled = try await agent.run()
        #expect(labelled.inventory.hasPrefix("delta 1 → 2: 1 section"))
        // …while a hostname change in an unrequested section waits.
        try "field-8\n".write(to: root.appendingPathComponent("proc/sys/kernel/hostname"), atomically: true, encoding: .utf8)
        let quiet = try await agent.run()
        #expect(quiet.inventory == "unchanged (version 2)")

        // The device's own setting beats its label's: now the os section is asked for.
        _ = try await server.adminJSON("PUT", "/v1/inventory-requests", json: ["scope": "device:\(id)", "sections": ["os"]])
        let own = try await agent.run()
        #expect(own.inventory.hasPrefix("delta 2 → 3: 1 section"))
        detail = try await server.adminJSON("GET", "/v1/devices/\(id)") as? [String: Any]
        let inventory = detail?["inventory"] as? [String: [String: String]]
        #expect(inventory?["os"]?["hostname"] == "field-8")
        #expect(inventory?["software"]?["curl"] == "8.5.0-1 amd64 100")
        #expect(inventory?["cpu"]?.isEmpty == false)

        let settings = try await server.adminJSON("GET", "/v1/inventory-requests") as? [[String: Any]]
        #expect(settings?.count == 3)
        _ = try await server.adminJSON("DELETE", "/v1/inventory-requests?scope=device:\(id)")
        let (status, _) = try await server.admin("PUT", "/v1/inventory-requests", json: ["scope": "planet", "sections": [String]()])
        #expect(status == 400)
        try await server.stop()
    }
}
