import Foundation
import Logging
@testable import PiggybackAgent
import PiggybackProtocol
import Testing

/// A source that answers what the test says; stands in for a receiver whose fix ages.
private struct FixedAnswer: PositionSource {
    let kind: PositionFix.Source
    let maxAge: Duration?
    let fix: PositionFix?
    func currentFix() async -> PositionFix? { fix }
}

@Suite struct PositionProviderTests {
    let logger = Logger(label: "test.position")

    @Test func theMostAccurateFreshSourceWins() async throws {
        let provider = try PositionProvider(
            configuration: PositionConfiguration(
                staticPosition: .init(lat: 48.1, lon: 11.5, accuracyMeters: 50),
                coarse: .init(lat: 48.0, lon: 11.0, accuracyMeters: 5000)
            ),
            logger: logger
        )
        let best = try #require(await provider.best())
        #expect(best.source == .static && best.accuracyMeters == 50 && best.lat == 48.1)

        let gps = PositionFix(lat: 48.11, lon: 11.51, accuracyMeters: 8, source: .gpsd)
        let withGPS = PositionProvider(sources: [
            FixedAnswer(kind: .gpsd, maxAge: .seconds(120), fix: gps),
            StaticPositionSource(.init(lat: 48.1, lon: 11.5, accuracyMeters: 50)),
        ], logger: logger)
        #expect(await withGPS.best() == gps)
        #expect(await withGPS.lastAnswer == gps)
    }

    @Test func aStaleFixLosesToACoarseFreshOne() async throws {
        let old = PositionFix(lat: 48.11, lon: 11.51, accuracyMeters: 8, source: .gpsd, observedAt: .now - .seconds(121))
        let provider = PositionProvider(sources: [
            FixedAnswer(kind: .gpsd, maxAge: .seconds(120), fix: old),
            CoarsePositionSource(.init(lat: 48, lon: 11, accuracyMeters: 3000), logger: logger),
        ], logger: logger)
        let best = try #require(await provider.best())
        #expect(best.source == .coarse && best.accuracyMeters == 3000)

        let onlyStale = PositionProvider(sources: [FixedAnswer(kind: .gpsd, maxAge: .seconds(120), fix: old)], logger: logger)
        #expect(await onlyStale.best() == nil)
    }

    @Test func anInvalidFixFromASourceIsIgnored() async {
        let broken = PositionFix(lat: .nan, lon: 11, accuracyMeters: 1, source: .gpsd)
        let provider = PositionProvider(sources: [FixedAnswer(kind: .gpsd, maxAge: nil, fix: broken)], logger: logger)
        #expect(await provider.best() == nil)
    }

    @Test func nothingKnownAnswersUnknownOnTheWire() async throws {
        let provider = try PositionProvider(configuration: PositionConfiguration(), logger: logger)
        #expect(await provider.best() == nil)
        let answer = await provider.wirePosition()
        #expect(answer.unknown && answer.lat == 0 && answer.lon == 0 && answer.source.isEmpty)
        // Round trip through the telex codec: the server sees "unknown".
        let decoded = try WirePosition(serializedBytes: try answer.serializedBytes() as [UInt8])
        #expect(decoded.unknown)
    }

    @Test func aFixOnTheWireCarriesAccuracySourceAndTime() {
        let time = Date(timeIntervalSince1970: 1_700_000_000.123)
        let fix = PositionFix(lat: -33.8688, lon: 151.2093, accuracyMeters: 12.5, source: .gpsd, time: time)
        let wire = WirePosition(fix: fix)
        #expect(wire.lat == -33.8688 && wire.lon == 151.2093 && wire.accuracyM == 12.5)
        #expect(wire.source == "gpsd" && wire.timeUnixMs == 1_700_000_000_123 && !wire.unknown)
        #expect(PositionFix(lat: 1, lon: 2, accuracyMeters: 3, source: .static).wire.source == "static")
        #expect(PositionFix(lat: 1, lon: 2, accuracyMeters: 3, source: .coarse).wire.source == "coarse")
    }

    @Test func invalidConfigurationIsRefusedWithAReason() {
        let bad: [PositionConfiguration] = [
            PositionConfiguration(staticPosition: .init(lat: 95, lon: 0, accuracyMeters: 10)),
            PositionConfiguration(staticPosition: .init(lat: 0, lon: 0, accuracyMeters: 0)),
            PositionConfiguration(coarse: .init(lat: 0, lon: 200, accuracyMeters: 5000)),
            PositionConfiguration(coarse: .init(lat: .infinity, lon: 0, accuracyMeters: 5000)),
            PositionConfiguration(gpsd: GPSDClientConfiguration(port: 0)),
            PositionConfiguration(gpsd: GPSDClientConfiguration(maxLineBytes: 10)),
            PositionConfiguration(gpsdMaxAge: .zero),
        ]
        for configuration in bad {
            #expect(throws: PositionError.self) { try PositionProvider(configuration: configuration, logger: logger) }
        }
        do {
            _ = try PositionProvider(configuration: bad[0], logger: logger)
        } catch {
            #expect(error.message.contains("latitude must be within"))
        }
    }

    @Test func withoutGPSDOneShotAnswersFromConfiguration() async throws {
        let fix = try await PositionProvider.oneShot(
            configuration: PositionConfiguration(coarse: .init(lat: 10, lon: 20, accuracyMeters: 2000)),
            logger: logger
        )
        #expect(fix?.source == .coarse && fix?.accuracyMeters == 2000)
    }
}
