/// Finds text every match of a pattern must contain, so most log lines are rejected by a
/// byte search before the NFA runs.
///
/// The result is a list of factors; a factor is a set of alternative strings, and a line
/// can only match if, for every factor, it contains one of the alternatives:
/// `dhclient.*DHCPNAK` gives `{dhclient}` and `{DHCPNAK}`, `(?:lost|no) fix` gives
/// `{lost fix, no fix}`, `error|fail(?:ed)?` gives `{error, fail}`. Case-insensitive
/// patterns keep to ASCII letters other than `k` (the Kelvin sign folds to it).
struct LiteralExtractor {
    let caseInsensitive: Bool
    /// Most alternatives in one factor.
    static let maxAlternatives = 16
    /// Most factors checked per line.
    static let maxFactors = 3

    typealias Factor = [[UInt32]]

    /// The factors worth checking, best first.
    func required(_ node: PatternNode) -> [Factor] {
        let ranked = factors(node).map(Self.minimal).filter { Self.shortest($0) > 0 }.sorted { Self.better($0, than: $1) }
        let long = ranked.filter { Self.shortest($0) >= 3 }
        return Array((long.isEmpty ? ranked : long).prefix(Self.maxFactors))
    }

    /// The finite set of strings `node` matches, when it is small; nil otherwise.
    func exact(_ node: PatternNode) -> Factor? {
        switch node {
        case .empty, .lineStart, .lineEnd, .wordBoundary:
            return [[]]
        case .char(let c):
            guard caseInsensitive else { return [[c]] }
            let folded = CaseFold.lower(c)
            return c < 128 && folded != 107 ? [[folded]] : nil
        case .concat(let items):
            var result: Factor = [[]]
            for item in items {
                guard let strings = exact(item), let crossed = Self.cross(result, strings) else { return nil }
                result = crossed
            }
            return result
        case .alternate(let branches):
            var result: Factor = []
            for branch in branches {
                guard let strings = exact(branch) else { return nil }
                result += strings
                if result.count > Self.maxAlternatives { return nil }
            }
            return result
        case .repeated(let inner, let low, let high, _):
            guard let high, high <= 3, let strings = exact(inner) else { return nil }
            var result: Factor = []
            var power: Factor = [[]]
            for count in 0...high {
                if count >= low { result += power }
                if count < high {
                    guard let next = Self.cross(power, strings) else { return nil }
                    power = next
                }
            }
            return result.count <= Self.maxAlternatives ? result : nil
        case .any, .set:
            return nil
        }
    }

    /// Every factor of `node` (see the type's documentation).
    func factors(_ node: PatternNode) -> [Factor] {
        if let strings = exact(node) { return Self.shortest(strings) > 0 ? [strings] : [] }
        switch node {
        case .concat(let items):
            var result: [Factor] = []
            var run: Factor = [[]]
            func flush() {
                if Self.shortest(run) > 0 { result.append(run) }
                run = [[]]
            }
            for item in items {
                if let strings = exact(item) {
                    if let crossed = Self.cross(run, strings) {
                        run = crossed
                    } else {
                        flush()
                        run = strings
                    }
                    continue
                }
                flush()
                result += factors(item)
            }
            flush()
            return result
        case .alternate(let branches):
            var union: Factor = []
            for branch in branches {
                guard let best = factors(branch).map(Self.minimal).min(by: { Self.better($0, than: $1) }) else { return [] }
                union += best
                if union.count > Self.maxAlternatives { return [] }
            }
            return [union]
        case .repeated(let inner, let low, _, _):
            return low >= 1 ? factors(inner) : []
        default:
            return []
        }
    }

    static func cross(_ left: Factor, _ right: Factor) -> Factor? {
        guard left.count * right.count <= maxAlternatives else { return nil }
        return left.flatMap { a in right.map { a + $0 } }
    }

    static func shortest(_ factor: Factor) -> Int { factor.map(\.count).min() ?? 0 }

    /// Longer shortest alternative first, then fewer alternatives.
    static func better(_ a: Factor, than b: Factor) -> Bool {
        shortest(a) != shortest(b) ? shortest(a) > shortest(b) : a.count < b.count
    }

    /// Without duplicates and without alternatives that contain another one (finding the
    /// shorter one is enough).
    static func minimal(_ factor: Factor) -> Factor {
        var unique: Factor = []
        for string in factor.sorted(by: { $0.count < $1.count }) where !unique.contains(where: { contains(string, $0) }) {
            unique.append(string)
        }
        return unique
    }

    static func contains(_ string: [UInt32], _ part: [UInt32]) -> Bool {
        guard part.count <= string.count else { return false }
        if part.isEmpty { return true }
        for start in 0...(string.count - part.count) where string[start..<start + part.count].elementsEqual(part) { return true }
        return false
    }
}
