@testable import PiggybackServer
import Testing

/// Debian version parsing and ordering. Every row of `ordering` was checked with
/// `dpkg --compare-versions` (dpkg 1.21/1.22), so the table is dpkg's answer, not ours.
@Suite struct DebianVersionTests {
    /// (left, expected sign of left compared with right, right), as `dpkg --compare-versions` answers.
    static let ordering: [(String, Int, String)] = [
        ("1.0~rc1", -1, "1.0"),
        ("1:0.1", 1, "2.0"),
        ("1.0-1", -1, "1.0-1+deb12u1"),
        ("2.30-1", 1, "2.4-1"),
        ("1.0a", -1, "1.0+"),
        ("1.0", 0, "0:1.0"),
        ("0:1.0-1", 0, "1.0-1"),
        ("1.0", 0, "1.00"),
        ("1.0", 0, "1.0-0"),
        ("1.0~~", -1, "1.0~~a"),
        ("1.0~~a", -1, "1.0~"),
        ("1.0~", -1, "1.0"),
        ("1.0", -1, "1.0a"),
        ("1.0a", -1, "1.0b"),
        ("1.0", -1, "1.0.1"),
        ("1.0-1", -1, "1.0-2"),
        ("1.0-9", -1, "1.0-10"),
        ("3.0.11-1~deb12u2", 1, "3.0.11"),
        ("3.0.9-1", -1, "3.0.11"),
        ("3.0.11-1~deb12u2", -1, "3.0.11-1"),
        ("7.88.1-10+deb12u5", 1, "7.88.1-10"),
        ("7.88.1-10+deb12u5", -1, "7.88.1-10+deb12u10"),
        ("2:1.0", 1, "1:9.9"),
        ("1.0-1-2", 1, "1.0-1-1"),
        ("1.0-1-2", 1, "1.0-2"),
        ("1.2.3", 1, "1.2.3~beta"),
        ("1.0+b1", 1, "1.0"),
        ("1.0.0", 1, "1.0"),
        ("1.01", 0, "1.1"),
        ("10", 1, "9"),
        ("1.0a", 1, "1.0"),
        ("1.0A", -1, "1.0a"),
        ("1.0z", -1, "1.0."),
        ("1.0-1ubuntu1", 1, "1.0-1"),
        ("1.0-1", 1, "1.0-1~bpo1"),
    ]

    /// Each pair orders as dpkg orders it, in both directions, and `==` agrees with `<`.
    @Test(arguments: ordering)
    func ordersLikeDpkg(_ row: (String, Int, String)) throws {
        let (leftText, expected, rightText) = row
        let left = try #require(DebianVersion(leftText))
        let right = try #require(DebianVersion(rightText))
        #expect((left < right) == (expected < 0), "\(leftText) < \(rightText)")
        #expect((right < left) == (expected > 0), "\(rightText) < \(leftText)")
        #expect((left == right) == (expected == 0), "\(leftText) == \(rightText)")
        #expect(DebianVersion.compare(left, right).signum() == expected)
    }

    /// The parts come apart as dpkg splits them: epoch before the first colon, revision after
    /// the last hyphen.
    @Test func splitsEpochUpstreamAndRevision() throws {
        let full = try #require(DebianVersion("2:1.0-1-2"))
        #expect(full.epoch == 2)
        #expect(full.upstream == "1.0-1")
        #expect(full.revision == "2")

        let colons = try #require(DebianVersion("1:2:3"))
        #expect(colons.epoch == 1)
        #expect(colons.upstream == "2:3")

        let plain = try #require(DebianVersion(" 3.0.11 "))
        #expect(plain.epoch == 0)
        #expect(plain.upstream == "3.0.11")
        #expect(plain.revision == "")
    }

    /// The description is dpkg's canonical form: no `0:` epoch, no empty revision.
    @Test func describesCanonically() throws {
        #expect(try #require(DebianVersion("0:1.0-1")).description == "1.0-1")
        #expect(try #require(DebianVersion("1:1.0")).description == "1:1.0")
        #expect(try #require(DebianVersion("3.0.11-1~deb12u2")).description == "3.0.11-1~deb12u2")
    }

    /// Texts dpkg refuses (errors) and texts it only warns about are both not versions here.
    @Test(arguments: [
        "", "   ", "1.0-", "-1", ":1.0", "a:1.0", "1:", "1.0 1", "1.0-1:2",
        "2147483648:1", "99999999999999999999:1",
        "debian", "1.0_1", "1.0-a_b", "v1.0", "1.0é",
    ])
    func refusesInvalid(_ text: String) {
        #expect(DebianVersion(text) == nil, "\(text)")
    }

    /// The largest epoch dpkg accepts (INT_MAX) still parses.
    @Test func acceptsLargestEpoch() throws {
        #expect(try #require(DebianVersion("2147483647:1")).epoch == 2_147_483_647)
    }
}
