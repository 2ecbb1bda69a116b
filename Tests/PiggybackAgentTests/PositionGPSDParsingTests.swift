import Foundation
import NIOCore
@testable import PiggybackAgent
import Testing

/// gpsd's JSON reports as gpsd 3.22 (Debian 12) writes them, and what the agent makes of them.
@Suite struct PositionGPSDParsingTests {
    // Captured from gpsd 3.22 fed by gpsfake.
    static let version = #"{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}"#
    static let devices = #"{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/1","activated":"2026-11-26T14:45:40.653Z","native":0,"bps":4800,"parity":"N","stopbits":1,"cycle":1.00}]}"#
    static let watch = #"{"class":"WATCH","enable":true,"json":true,"nmea":false,"raw":0,"scaled":false,"timing":false,"split24":false,"pps":false}"#
    static let device = #"{"class":"DEVICE","path":"/dev/pts/1","driver":"NMEA0183","activated":"2026-11-26T14:45:40.831Z","native":0,"bps":4800,"parity":"N","stopbits":1,"cycle":1.00}"#
    static let tpv2DNoError = #"{"class":"TPV","device":"/dev/pts/1","mode":2,"time":"2013-11-06T12:00:04.000Z","ept":0.005,"lat":48.117300000,"lon":11.516666667,"track":0.0000,"magtrack":3.3264,"magvar":3.3,"speed":0.000}"#
    static let tpv3D = #"{"class":"TPV","device":"/dev/pts/1","mode":3,"time":"2033-06-22T12:00:00.000Z","ept":0.005,"lat":48.117300000,"lon":11.516666667,"altHAE":592.3000,"altMSL":545.4000,"alt":545.4000,"epv":48.300,"track":0.0000,"magtrack":3.3264,"magvar":3.3,"speed":0.000,"epc":0.00,"geoidSep":46.900,"eph":24.700,"sep":47.500}"#
    static let gst = #"{"class":"GST","device":"/dev/pts/1","time":"2033-06-22T12:00:02.000Z","rms":1.500,"major":4.000,"minor":3.000,"orient":45.000,"lat":3.500,"lon":2.500,"alt":6.000}"#
    // From the gpsd JSON protocol documentation (epx/epy, no eph; SKY with satellites).
    static let tpvEpxEpy = #"{"class":"TPV","device":"/dev/pts/1","time":"2005-06-08T10:34:48.283Z","ept":0.005,"lat":46.498293369,"lon":7.567411672,"alt":1343.127,"eph":null,"epx":3.0,"epy":4.0,"epv":32.321,"track":10.3788,"speed":0.091,"climb":-0.085,"eps":2.34,"epc":6.50,"mode":3}"#
    static let sky = #"{"class":"SKY","device":"/dev/pts/1","time":"2005-07-08T11:28:07.114Z","xdop":1.55,"hdop":1.24,"pdop":1.99,"satellites":[{"PRN":23,"el":6,"az":84,"ss":0,"used":false},{"PRN":28,"el":7,"az":160,"ss":0,"used":true},{"PRN":8,"el":66,"az":189,"ss":44,"used":true}]}"#
    static let tpvNoFix = #"{"class":"TPV","device":"/dev/pts/1","mode":1}"#

    static func parse(_ line: String) throws -> GPSDMessage {
        try GPSDMessage.parse(Array(line.utf8))
    }

    @Test func parsesTheGreetingAndTheWatchConfirmation() throws {
        #expect(try Self.parse(Self.version) == .version(release: "3.22", protocolMajor: 3))
        #expect(try Self.parse(Self.devices) == .devices(["/dev/pts/1"]))
        #expect(try Self.parse(Self.watch) == .watch(enabled: true))
        #expect(try Self.parse(Self.device) == .other("DEVICE"))
        #expect(try Self.parse(Self.gst) == .other("GST"))
        #expect(try Self.parse(#"{"class":"ERROR","message":"Unrecognized request '?FOO'"}"#) == .error("Unrecognized request '?FOO'"))
    }

    @Test func a3DFixTakesItsAccuracyFromEph() throws {
        guard case .tpv(let tpv) = try Self.parse(Self.tpv3D) else { Issue.record("not a TPV"); return }
        let fix = try #require(tpv.fix(defaults: GPSDClientConfiguration()))
        #expect(fix.lat == 48.1173 && abs(fix.lon - 11.516666667) < 1e-9)
        #expect(fix.accuracyMeters == 24.7)
        #expect(fix.source == .gpsd)
    }

    @Test func withoutEphTheAccuracyCombinesEpxAndEpy() throws {
        guard case .tpv(let tpv) = try Self.parse(Self.tpvEpxEpy) else { Issue.record("not a TPV"); return }
        let fix = try #require(tpv.fix(defaults: GPSDClientConfiguration()))
        #expect(fix.accuracyMeters == 5.0)
    }

    @Test func withoutAnyErrorEstimateTheDefaultForTheModeApplies() throws {
        let defaults = GPSDClientConfiguration(defaultAccuracy2DMeters: 300, defaultAccuracy3DMeters: 120)
        guard case .tpv(let tpv2D) = try Self.parse(Self.tpv2DNoError) else { Issue.record("not a TPV"); return }
        #expect(tpv2D.fix(defaults: defaults)?.accuracyMeters == 300)
        guard case .tpv(let tpv3D) = try Self.parse(#"{"class":"TPV","mode":3,"lat":1.5,"lon":2.5}"#) else { Issue.record("not a TPV"); return }
        #expect(tpv3D.fix(defaults: defaults)?.accuracyMeters == 120)
    }

    @Test func noFixOrUnusableNumbersGiveNoPosition() throws {
        let defaults = GPSDClientConfiguration()
        for line in [
            Self.tpvNoFix,
            #"{"class":"TPV","mode":3}"#,
            #"{"class":"TPV","mode":3,"lat":91.0,"lon":0}"#,
            #"{"class":"TPV","mode":3,"lat":10.0,"lon":-181}"#,
            #"{"class":"TPV","lat":10.0,"lon":10.0}"#,
        ] {
            guard case .tpv(let tpv) = try Self.parse(line) else { Issue.record("not a TPV: \(line)"); continue }
            #expect(tpv.fix(defaults: defaults) == nil, "\(line)")
        }
    }

    @Test func skyCountsSatellitesInUse() throws {
        guard case .sky(let sky) = try Self.parse(Self.sky) else { Issue.record("not SKY"); return }
        #expect(sky.satellitesUsed == 2 && sky.hdop == 1.24)
        guard case .sky(let newer) = try Self.parse(#"{"class":"SKY","nSat":12,"uSat":7}"#) else { Issue.record("not SKY"); return }
        #expect(newer.satellitesUsed == 7)
    }

    @Test func unknownClassesAndFieldsAreIgnored() throws {
        #expect(try Self.parse(#"{"class":"FUTURE","whatever":[1,2,{"x":null}]}"#) == .other("FUTURE"))
        guard case .tpv(let tpv) = try Self.parse(#"{"class":"TPV","mode":2,"lat":1,"lon":2,"eph":7,"newField":{"a":1}}"#) else {
            Issue.record("not a TPV"); return
        }
        #expect(tpv.fix(defaults: GPSDClientConfiguration())?.accuracyMeters == 7)
    }

    @Test func garbageIsAnErrorNotACrash() {
        let garbage: [[UInt8]] = [
            Array("not json".utf8),
            Array("{".utf8),
            Array("[1,2,3]".utf8),
            Array(#"{"no_class":1}"#.utf8),
            Array(#"{"class":42}"#.utf8),
            Array(#"{"class":"TPV","mode":"three","lat":1,"lon":2}"#.utf8),
            Array(#"{"class":"TPV","lat":"north"}"#.utf8),
            Array(#"{"class":"SKY","satellites":"many"}"#.utf8),
            [0xFF, 0xFE, 0x00, 0x7B, 0x22],
            Array(repeating: UInt8(ascii: "{"), count: 10_000),
            [],
        ]
        for line in garbage {
            #expect(throws: GPSDProtocolError.self) { try GPSDMessage.parse(line) }
        }
    }

    @Test func theLineDecoderSplitsOnNewlinesAndKeepsPartialLines() throws {
        var buffer = ByteBuffer(string: Self.version + "\r\n" + Self.watch + "\n{\"class\":\"TP")
        let first = try #require(try GPSDLineDecoder.nextLine(in: &buffer, maxLineBytes: 1024))
        #expect(String(buffer: first) == Self.version + "\r")
        #expect(try Self.parse(String(buffer: first)) == .version(release: "3.22", protocolMajor: 3))
        let second = try #require(try GPSDLineDecoder.nextLine(in: &buffer, maxLineBytes: 1024))
        #expect(String(buffer: second) == Self.watch)
        #expect(try GPSDLineDecoder.nextLine(in: &buffer, maxLineBytes: 1024) == nil)
        buffer.writeString("V\"}\n")
        #expect(try GPSDLineDecoder.nextLine(in: &buffer, maxLineBytes: 1024).map { String(buffer: $0) } == #"{"class":"TPV"}"#)
    }

    @Test func anOverlongLineIsAProtocolError() {
        // Complete but too long.
        var complete = ByteBuffer(string: String(repeating: "x", count: 2000) + "\n")
        #expect(throws: GPSDProtocolError.lineTooLong(limit: 1024)) {
            try GPSDLineDecoder.nextLine(in: &complete, maxLineBytes: 1024)
        }
        // Still growing without a newline: refused before it is complete.
        var growing = ByteBuffer(string: String(repeating: "x", count: 1025))
        #expect(throws: GPSDProtocolError.lineTooLong(limit: 1024)) {
            try GPSDLineDecoder.nextLine(in: &growing, maxLineBytes: 1024)
        }
        // Exactly at the limit is fine.
        var exact = ByteBuffer(string: String(repeating: "x", count: 1024) + "\n")
        #expect((try? GPSDLineDecoder.nextLine(in: &exact, maxLineBytes: 1024))??.readableBytes == 1024)
    }
}
