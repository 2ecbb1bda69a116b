import Foundation
@testable import PiggybackAgent
import Testing

@Suite struct CollectionScannerTests {
    let root: URL
    let outside: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-roots-\(UUID().uuidString)/outbox")
        outside = root.deletingLastPathComponent().appendingPathComponent("secret")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("day1"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try "a".write(to: root.appendingPathComponent("day1/a.csv"), atomically: true, encoding: .utf8)
        try "b".write(to: root.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        try "s".write(to: outside.appendingPathComponent("key.pem"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link.csv"), withDestinationURL: outside.appendingPathComponent("key.pem"))
        mkfifo(root.appendingPathComponent("pipe.csv").path, 0o600)
    }

    @Test func collectsRegularFilesInsideTheRoots() {
        let scanner = CollectionScanner(roots: [root])
        let (matches, problems) = scanner.scan("day1/*.csv")
        #expect(matches.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["a.csv"])
        #expect(problems.isEmpty)
    }

    @Test func refusesDotDotAbsoluteAndSymlinkEscapes() {
        let scanner = CollectionScanner(roots: [root])
        for pattern in ["../secret/*", outside.path + "/key.pem", "/etc/passwd"] {
            let (matches, problems) = scanner.scan(pattern)
            #expect(matches.isEmpty, "\(pattern)")
            #expect(problems.allSatisfy { $0.1.contains("outside") }, "\(pattern)")
        }
        let (matches, problems) = scanner.scan("*.csv")
        #expect(matches.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["b.csv"])
        #expect(problems.contains { $0.0.hasSuffix("link.csv") && $0.1.contains("outside") })
        #expect(problems.contains { $0.0.hasSuffix("pipe.csv") && $0.1.contains("not a regular file") })
    }

    @Test func reportsNoMatch() {
        let (matches, problems) = CollectionScanner(roots: [root]).scan("nothing-*.log")
        #expect(matches.isEmpty)
        #expect(problems.first?.1 == "no file matches")
    }
}

@Suite struct CollectionScannerPrefixTests {
    @Test func lexicalPrefixStopsAtTheFirstWildcardAndResolvesDotDot() {
        #expect(CollectionScanner.lexicalPrefix("/var/log/../../etc/*.conf") == "/etc")
        #expect(CollectionScanner.lexicalPrefix("/var/log/app/*/x.log") == "/var/log/app")
        #expect(CollectionScanner.lexicalPrefix("/a/./b/c.txt") == "/a/b/c.txt")
    }

    @Test func outsidePatternsAreRefusedWithoutListingAnything() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pb-prefix-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let (matches, problems) = CollectionScanner(roots: [root]).scan("/etc/*")
        #expect(matches.isEmpty)
        // One problem naming the pattern, not the files it would have listed.
        #expect(problems.count == 1 && problems[0].0 == "/etc/*")
    }

    @Test func symlinkedRootIsUsableByItsConfiguredPath() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("pb-link-\(UUID().uuidString)")
        let real = base.appendingPathComponent("real")
        let link = base.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        try "x".write(to: real.appendingPathComponent("a.log"), atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: base) }
        let (matches, problems) = CollectionScanner(roots: [link]).scan(link.path + "/*.log")
        #expect(matches.count == 1)
        #expect(problems.isEmpty)
    }
}
