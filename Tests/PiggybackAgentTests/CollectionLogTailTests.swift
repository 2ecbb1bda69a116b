import Foundation
@testable import PiggybackAgent
import Testing

/// Following a growing log across appends and rotations: what each collection sends is
/// exactly what the log gained, in order, with continuous stream offsets.
@Suite struct CollectionLogTailTests {
    let directory: URL
    var log: URL { directory.appendingPathComponent("app.log") }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-logtail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func append(_ text: String, to url: URL? = nil) throws {
        let target = url ?? log
        if !FileManager.default.fileExists(atPath: target.path) { FileManager.default.createFile(atPath: target.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: target)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Plans, "stores" every segment, and returns the text sent and the new cursor.
    func collect(_ cursor: LogCursor) throws -> (text: String, cursor: LogCursor, segments: [LogSegment], notes: [String]) {
        let tail = LogTail(path: log.path, resolved: log.path, scratchDirectory: directory.appendingPathComponent("spool"))
        let (segments, notes) = try tail.plan(after: cursor)
        var text = ""
        var expectedOffset = cursor.streamOffset
        var last = cursor
        for segment in segments {
            #expect(segment.streamOffset == expectedOffset, "stream offsets are continuous")
            let handle = try FileHandle(forReadingFrom: segment.file)
            try handle.seek(toOffset: segment.start)
            text += String(decoding: try handle.read(upToCount: Int(segment.count)) ?? Data(), as: UTF8.self)
            try handle.close()
            expectedOffset += segment.count
            last = segment.cursorAfter
        }
        return (text, last, segments, notes)
    }

    func gzip(_ url: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-f", url.path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test func firstTheWholeLogThenOnlyWhatWasAppended() throws {
        try append("line 1\nline 2\n")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        #expect(first.text == "line 1\nline 2\n")
        let idle = try collect(first.cursor)
        #expect(idle.segments.isEmpty, "nothing new, nothing sent")
        try append("line 3\n")
        let second = try collect(first.cursor)
        #expect(second.text == "line 3\n")
        #expect(second.cursor.streamOffset == 21)
    }

    @Test func aRenamedRotationIsFinishedThenTheNewLogStartsAtZero() throws {
        try append("old 1\n")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        try append("old 2\n")
        try FileManager.default.moveItem(at: log, to: directory.appendingPathComponent("app.log.1"))
        try append("new 1\n")
        let second = try collect(first.cursor)
        #expect(second.text == "old 2\nnew 1\n")
        #expect(second.notes.isEmpty)
        try append("new 2\n")
        #expect(try collect(second.cursor).text == "new 2\n")
    }

    @Test func compressedAndNewerRotationsAreFollowedInOrder() throws {
        try append("gen0 a\n")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        try append("gen0 b\n")
        // Rotated twice before the next collection: app.log.2.gz (our file), app.log.1, app.log.
        try FileManager.default.moveItem(at: log, to: directory.appendingPathComponent("app.log.2"))
        try gzip(directory.appendingPathComponent("app.log.2"))
        let older = Date(timeIntervalSinceNow: -120)
        try FileManager.default.setAttributes([.modificationDate: older], ofItemAtPath: directory.appendingPathComponent("app.log.2.gz").path)
        try append("gen1 a\n", to: directory.appendingPathComponent("app.log.1"))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: directory.appendingPathComponent("app.log.1").path)
        try append("gen2 a\n")
        let second = try collect(first.cursor)
        #expect(second.text == "gen0 b\ngen1 a\ngen2 a\n")
        #expect(second.segments.first?.scratch == true, "the compressed rotation is read from a decompressed copy")
    }

    @Test func copyTruncateIsRecognisedByTheFirstBytes() throws {
        try append("ct 1\n")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        try append("ct 2\n")
        try FileManager.default.copyItem(at: log, to: directory.appendingPathComponent("app.log.1"))
        try FileHandle(forWritingTo: log).truncate(atOffset: 0)
        try append("after\n")
        let second = try collect(first.cursor)
        #expect(second.text == "ct 2\nafter\n")
    }

    @Test func aRotationThatIsGoneIsReportedAndTheNewLogSentWhole() throws {
        try append("gone 1\n")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        try FileManager.default.removeItem(at: log)
        try append("fresh\n")
        let second = try collect(first.cursor)
        #expect(second.text == "fresh\n")
        #expect(second.notes.count == 1)
    }

    @Test func anInterruptedSegmentIsSentAgainWithTheSameBytes() throws {
        try append(String(repeating: "a", count: 99) + "\n")
        var cursor = LogCursor(orderID: "o", source: log.path)
        let tail = LogTail(path: log.path, resolved: log.path, scratchDirectory: directory)
        let planned = try tail.plan(after: cursor).segments
        #expect(planned.count == 1 && planned[0].count == 100)
        // The session announced [0, 100) and was cut; the log grew meanwhile.
        cursor = planned[0].cursorAfter
        cursor.offset = 0
        cursor.pendingEnd = 100
        cursor.fingerprint = ""
        try append(String(repeating: "b", count: 49) + "\n")
        let again = try tail.plan(after: cursor).segments
        #expect(again.map(\.start) == [0, 100])
        #expect(again.map(\.count) == [100, 50])
    }

    @Test func aLineBeingWrittenWaitsForTheNextCollection() throws {
        try append("complete\nhalf a li")
        let first = try collect(LogCursor(orderID: "o", source: log.path))
        #expect(first.text == "complete\n")
        try append("ne\nnext\n")
        let second = try collect(first.cursor)
        #expect(second.text == "half a line\nnext\n")
    }
}
