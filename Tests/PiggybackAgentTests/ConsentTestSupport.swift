import Foundation
import Logging
@testable import PiggybackAgent
import PiggybackTestSupport

/// A temporary directory with helpers for the consent tests: executable scripts that stand
/// in for notify-send, and files they write.
struct ConsentScratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("pb-consent-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Writes an executable `/bin/sh` script named `name`; `$DIR` in `body` is this directory.
    @discardableResult
    func script(_ name: String, _ body: String) throws -> String {
        let file = url.appendingPathComponent(name).path
        try writeExecutable("#!/bin/sh\nDIR='\(path)'\n" + body + "\n", to: file)
        return file
    }

    /// A file's contents, nil when it does not exist.
    func read(_ name: String) -> String? {
        try? String(contentsOfFile: url.appendingPathComponent(name).path, encoding: .utf8)
    }

    /// Waits up to `seconds` for `name` to exist.
    func waitFor(_ name: String, seconds: Double = 30) async throws -> String? {
        for _ in 0..<Int(seconds * 50) {
            if let text = read(name) { return text }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}

enum ConsentFixtures {
    static let items = [
        ConsentItem(name: "curl", version: "8.5.0", size: 1_234_567, reason: "software.curl < 8.5"),
        ConsentItem(name: "maps-nrw", version: "2025.01", size: 120 << 20, reason: "position in region nrw"),
    ]

    static let logger: Logger = {
        var logger = Logger(label: "test.consent")
        logger.logLevel = .critical
        return logger
    }()

    /// A session that only exists in the test: notify-send scripts ignore it, real notify-send
    /// reaches a private bus.
    static func desktop(bus: String = "unix:path=/nonexistent/pb-test-bus") -> DesktopSession {
        DesktopSession(environment: ["DISPLAY": ":42", "DBUS_SESSION_BUS_ADDRESS": bus])
    }

    /// A configuration that never looks at the machine's real desktop or terminal.
    static func configuration(timeout: Duration, defaultAnswer: ConsentAnswer = .defer, notifySend: String = "notify-send", desktop: DesktopSession? = nil) -> ConsentConfiguration {
        ConsentConfiguration(timeout: timeout, defaultAnswer: defaultAnswer, notifySend: notifySend, desktop: desktop, detectDesktop: false, interactiveTerminal: false)
    }

    /// Waits until the broker has a question open.
    static func pending(_ broker: ConsentBroker, seconds: Double = 5) async throws -> ConsentQuestion {
        for _ in 0..<Int(seconds * 100) {
            if let question = await broker.pending() { return question }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ConsentTestError("no question was opened within \(seconds) s")
    }
}

struct ConsentTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
