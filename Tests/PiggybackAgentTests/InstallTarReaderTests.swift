import Foundation
@testable import PiggybackAgent
import Testing

/// The streaming tar reader against archives written by GNU tar in each format, read in
/// deliberately small pieces.
@Suite struct InstallTarReaderTests {
    /// Entries (path → content or link target) of `archive`, read 100 bytes at a time.
    func read(_ archive: URL, gzip: Bool = false) throws -> [String: String] {
        var entries: [String: String] = [:]
        func collect<Source>(_ reader: inout TarReader<Source>) throws {
            while let entry = try reader.next() {
                var content = Data()
                if entry.kind == .file { try reader.readContent { content.append(contentsOf: $0) } }
                let key = entry.path.hasSuffix("/") ? String(entry.path.dropLast()) : entry.path
                entries[key] = entry.kind == .symlink ? "-> " + entry.linkTarget : String(decoding: content, as: UTF8.self)
            }
        }
        if gzip {
            var reader = TarReader(try GzipChunkSource(try FileChunkSource(url: archive, chunkSize: 100), outputSize: 333))
            try collect(&reader)
        } else {
            var reader = TarReader(try FileChunkSource(url: archive, chunkSize: 100))
            try collect(&reader)
        }
        return entries
    }

    @Test(arguments: ["gnu", "pax", "ustar"])
    func readsLongNamesInEachFormat(format: String) throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        // ustar can split at most 155 + 100 characters at a slash; gnu and pax take any length.
        let deep = format == "ustar"
            ? String(repeating: "d", count: 90) + "/" + String(repeating: "n", count: 90) + ".txt"
            : (1...6).map { String(repeating: Character(String($0)), count: 60) }.joined(separator: "/") + "/file.txt"
        let source = try sandbox.tree("src", [deep: "deep content", "small.txt": String(repeating: "z", count: 1000)])
        let longTarget = format == "ustar" ? "small.txt" : String(repeating: "../x/", count: 30) + "small.txt"
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("link").path, withDestinationPath: longTarget)
        let archive = sandbox.path("\(format).tar")
        try installTestRun(["tar", "--format=\(format)", "-cf", archive.path, "-C", source.path, "."])

        let entries = try read(archive)
        #expect(entries["./" + deep] == "deep content")
        #expect(entries["./small.txt"] == String(repeating: "z", count: 1000))
        #expect(entries["./link"] == "-> " + longTarget)

        let compressed = sandbox.path("\(format).tgz")
        try installTestRun(["tar", "--format=\(format)", "-czf", compressed.path, "-C", source.path, "."])
        #expect(try read(compressed, gzip: true) == entries)
    }

    @Test func paxRecordsAndNumbers() throws {
        let records = try TarReader<FileChunkSource>.paxRecords("29 path=a/very/long/name.txt\n19 linkpath=target\n12 size=999\n18 mtime=1.000001\n")
        #expect(records == ["path": "a/very/long/name.txt", "linkpath": "target", "size": "999"])
        #expect(throws: InstallFailure.self) { try TarReader<FileChunkSource>.paxRecords("99 path=short\n") }
        #expect(try TarReader<FileChunkSource>.number(ArraySlice(Array("0000644\0".utf8)), field: "mode") == 0o644)
        #expect(try TarReader<FileChunkSource>.number(ArraySlice([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]), field: "size") == 256)
        #expect(throws: InstallFailure.self) { try TarReader<FileChunkSource>.number(ArraySlice(Array("00009\0".utf8)), field: "size") }
    }

    @Test func detectsFormatsByMagicNotName() throws {
        let sandbox = try InstallSandbox()
        defer { sandbox.remove() }
        let source = try sandbox.tree("src", ["a.txt": "a"])
        let zip = sandbox.path("misnamed.tar.gz")
        try installTestRun(["zip", "-q", zip.path, "a.txt"], in: source)
        #expect(try ArchiveExtractor.format(of: zip) == .zip)
        let tgz = sandbox.path("misnamed.zip")
        try installTestRun(["tar", "-czf", tgz.path, "-C", source.path, "a.txt"])
        #expect(try ArchiveExtractor.format(of: tgz) == .gzip)
        let tar = sandbox.path("plain")
        try installTestRun(["tar", "-cf", tar.path, "-C", source.path, "a.txt"])
        #expect(try ArchiveExtractor.format(of: tar) == .tar)
        #expect(try ArchiveExtractor.format(of: source.appendingPathComponent("a.txt")) == .other)
    }
}
