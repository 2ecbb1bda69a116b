import Foundation
import Logging
@testable import PiggybackAgent
import Testing

/// Ordering without the network: list, nearest, the chain, and per-server backoff.
@Suite struct DiscoveryLocatorTests {
    static let tokyo = (lat: 35.6812, lon: 139.7671)
    static let osaka = (lat: 34.7025, lon: 135.4959)
    static let sapporo = (lat: 43.0687, lon: 141.3508)
    static let yokohama = (lat: 35.4437, lon: 139.6380)

    static func locator(_ methods: [DiscoveryMethod], backoffBase: Duration = .seconds(30)) -> ServerLocator {
        var logger = Logger(label: "test.discovery")
        logger.logLevel = .warning
        // No broadcast leaves the machine: no interfaces, no unicast targets.
        let configuration = DiscoveryConfiguration(methods: methods, broadcastTimeout: .milliseconds(200), backoffBase: backoffBase, interfaces: [])
        return ServerLocator(configuration: configuration, logger: logger)
    }

    @Test func greatCircleDistances() {
        let tokyoOsaka = GreatCircle.distanceKm(from: Self.tokyo, to: Self.osaka)
        #expect(abs(tokyoOsaka - 403.1) < 1)
        let parisLondon = GreatCircle.distanceKm(from: (48.8566, 2.3522), to: (51.5074, -0.1278))
        #expect(abs(parisLondon - 343.5) < 3)
        #expect(GreatCircle.distanceKm(from: Self.tokyo, to: Self.tokyo) == 0)
        // Antipodes: half the circumference, no NaN from rounding.
        let antipodes = GreatCircle.distanceKm(from: (0, 0), to: (0, 180))
        #expect(abs(antipodes - Double.pi * GreatCircle.earthRadiusKm) < 0.001)
        #expect(!GreatCircle.isValid((91, 0)))
        #expect(!GreatCircle.isValid((.nan, 0)))
    }

    @Test func listKeepsTheGivenOrderAndSkipsBadURLs() async {
        let configured = [
            Candidate(url: "wss://b.example:7443/v1/session"),
            Candidate(url: "http://not-a-server"),
            Candidate(url: "a.example:7443"),
        ]
        let found = await Self.locator([.list]).candidates(configured: configured, position: nil)
        #expect(found.map(\.url) == ["wss://b.example:7443/v1/session", "wss://a.example:7443/v1/session"])
        #expect(found.map(\.reason) == ["list #1", "list #3"])
        #expect(found.allSatisfy { $0.method == .list })
    }

    @Test func nearestOrdersByDistanceThenUnlocated() async {
        let configured = [
            Candidate(url: "wss://sapporo:7443/v1/session", location: Self.sapporo),
            Candidate(url: "wss://osaka:7443/v1/session", location: Self.osaka),
            Candidate(url: "wss://nowhere:7443/v1/session"),
            Candidate(url: "wss://tokyo:7443/v1/session", location: Self.tokyo),
        ]
        let found = await Self.locator([.nearest]).candidates(configured: configured, position: Self.yokohama)
        #expect(found.map(\.endpoint.host) == ["tokyo", "osaka", "sapporo", "nowhere"])
        #expect(found[0].reason.hasPrefix("nearest: 28.9 km"))
        #expect(found[0].reason.hasSuffix("km (list #4)"))
        #expect(found[3].reason == "nearest: location unknown, list #3")

        // From Osaka the order changes.
        let fromOsaka = await Self.locator([.nearest]).candidates(configured: configured, position: (34.69, 135.50))
        #expect(fromOsaka.map(\.endpoint.host) == ["osaka", "tokyo", "sapporo", "nowhere"])
    }

    @Test func nearestWithoutPositionOrLocationsKeepsListOrder() async {
        let configured = [Candidate(url: "wss://a:1/v1/session", location: Self.sapporo), Candidate(url: "wss://b:1/v1/session", location: Self.tokyo)]
        let unknown = await Self.locator([.nearest]).candidates(configured: configured, position: nil)
        #expect(unknown.map(\.endpoint.host) == ["a", "b"])
        #expect(unknown[0].reason == "nearest: terminal position unknown, list #1")
        let invalid = await Self.locator([.nearest]).candidates(configured: configured, position: (.nan, 0))
        #expect(invalid.map(\.endpoint.host) == ["a", "b"])
        let unplaced = [Candidate(url: "wss://a:1/v1/session"), Candidate(url: "wss://b:1/v1/session")]
        let noLocations = await Self.locator([.nearest]).candidates(configured: unplaced, position: Self.tokyo)
        #expect(noLocations.map(\.reason) == ["nearest: no server location known, list #1", "nearest: no server location known, list #2"])
    }

    @Test func chainKeepsFirstPlaceOfEachServer() async {
        let configured = [
            Candidate(url: "wss://far:7443/v1/session", location: Self.sapporo),
            Candidate(url: "wss://near:7443/v1/session", location: Self.tokyo),
            Candidate(url: "wss://unplaced:7443/v1/session"),
        ]
        let found = await Self.locator([.nearest, .list, .broadcast]).candidates(configured: configured, position: Self.yokohama)
        #expect(found.map(\.endpoint.host) == ["near", "far", "unplaced"])
        #expect(found.allSatisfy { $0.method == .nearest })
    }

    @Test func failedServerIsSkippedUntilAllAreInBackoff() async {
        let locator = Self.locator([.list])
        let configured = [Candidate(url: "wss://first:7443/v1/session"), Candidate(url: "wss://second:7443/v1/session")]
        let before = await locator.candidates(configured: configured, position: nil)
        #expect(before.map(\.endpoint.host) == ["first", "second"])

        await locator.recordFailure(before[0])
        let after = await locator.candidates(configured: configured, position: nil)
        #expect(after.map(\.endpoint.host) == ["second"])
        #expect(after[0].reason == "list #2")

        // Every server failed: they come back anyway, soonest due first.
        await locator.recordFailure(after[0])
        await locator.recordFailure(after[0])
        let all = await locator.candidates(configured: configured, position: nil)
        #expect(all.map(\.endpoint.host) == ["first", "second"])
        #expect(all.allSatisfy { $0.reason.hasSuffix("(every server is in backoff; trying anyway)") })

        await locator.recordSuccess(all[0])
        let recovered = await locator.candidates(configured: configured, position: nil)
        #expect(recovered.map(\.endpoint.host) == ["first"])
    }

    @Test func backoffDoublesUpToTheCapAndExpires() async {
        let backoff = ServerBackoff(base: .seconds(10), max: .seconds(25), jitter: { 1 })
        let now = ContinuousClock.now
        #expect(await backoff.recordFailure("s", now: now) == .seconds(10))
        #expect(await backoff.retryAt("s", now: now) == now + .seconds(10))
        #expect(await backoff.retryAt("s", now: now + .seconds(11)) == nil)
        #expect(await backoff.recordFailure("s", now: now) == .seconds(20))
        #expect(await backoff.recordFailure("s", now: now) == .seconds(25))
        #expect(await backoff.recordFailure("s", now: now) == .seconds(25))
        #expect(await backoff.failures("s") == 4)
        await backoff.recordSuccess("s")
        #expect(await backoff.retryAt("s", now: now) == nil)
        #expect(await backoff.failures("s") == 0)

        let jittered = ServerBackoff(base: .seconds(10), max: .seconds(100))
        for _ in 0..<20 {
            let wait = await jittered.recordFailure("j\(UUID())", now: now)
            #expect(wait >= .seconds(5) && wait <= .seconds(10))
        }
    }

    @Test func candidateParsing() throws {
        let plain = try Candidate(parsing: "mgmt.example:7443")
        #expect(plain.url == "wss://mgmt.example:7443/v1/session")
        #expect(plain.location == nil)
        let placed = try Candidate(parsing: "wss://mgmt.example:7443/v1/session@35.68,139.76")
        #expect(placed.url == "wss://mgmt.example:7443/v1/session")
        #expect(placed.location?.lat == 35.68)
        #expect(placed.location?.lon == 139.76)
        #expect(placed.description == "wss://mgmt.example:7443/v1/session@35.68,139.76")
        #expect(throws: AgentError.self) { try Candidate(parsing: "wss://x:1/v1/session@95,0") }
        #expect(throws: AgentError.self) { try Candidate(parsing: "ftp://x") }
    }

    @Test func methodChainParsing() throws {
        #expect(try DiscoveryMethod.chain(parsing: "nearest, list,broadcast,list") == [.nearest, .list, .broadcast])
        #expect(throws: DiscoveryConfigurationError.self) { try DiscoveryMethod.chain(parsing: "dns") }
        #expect(throws: DiscoveryConfigurationError.self) { try DiscoveryMethod.chain(parsing: " , ") }
        #expect(DiscoveryConfiguration().methods == [.list, .broadcast])
    }
}
