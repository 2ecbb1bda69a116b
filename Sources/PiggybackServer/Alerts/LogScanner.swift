import Foundation

/// Runs several patterns over every line of a file: the analysis loop of the alert rules,
/// public so the benchmark measures exactly what the server runs.
public struct LogScanner {
    /// The patterns, in the order their indexes are reported.
    public let patterns: [SafePattern]
    let matchers: [SafePatternMatcher]
    /// How lines are read.
    public var reader = LogLineReader()

    /// A scanner with one matcher (and its scratch space) per pattern.
    public init(patterns: [SafePattern]) {
        self.patterns = patterns
        self.matchers = patterns.map(SafePatternMatcher.init)
    }

    /// Matching work done so far, summed over the patterns (see ``SafePatternMatcher/steps``).
    public var steps: Int { matchers.reduce(0) { $0 + $1.steps } }

    /// Reads `file` line by line and calls `onMatch` with the pattern's index and the line
    /// for every pattern that occurs in it.
    public func scan(
        file: URL, onMatch: (_ pattern: Int, _ line: UnsafeBufferPointer<UInt8>) throws -> Void
    ) throws -> LogLineReader.Summary {
        try matchers.withUnsafeBufferPointer { matchers in
            try reader.forEachLine(in: file) { line in
                for index in matchers.indices where matchers[index].matches(line) {
                    try onMatch(index, line)
                }
            }
        }
    }
}
