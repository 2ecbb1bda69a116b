import ArgumentParser
import Foundation
import PiggybackServer

#if canImport(Glibc)
import Glibc
#endif

/// Log analysis throughput (issue 6): lines per second per core for 20 rules over a
/// generated syslog-like file, through `LogScanner` (the loop the server runs on every
/// collected file), against NSRegularExpression with the same patterns in the same run;
/// and the time of a catastrophic pattern on a hostile line.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Measure log analysis: lines per second per core for 20 rules (SafePattern vs NSRegularExpression)."
    )

    @Option(help: "Lines in the generated log.") var lines = 200_000
    @Option(help: "Lines given to NSRegularExpression for the baseline (0: skip it).") var baselineLines = 20_000
    @Option(help: "Timed passes over the file (the best is reported).") var runs = 3
    @Option(help: "Seed of the generated log, for repeatable runs.") var seed: UInt64 = 6

    /// Twenty rules of the kind an administrator writes: fixed text, classes, alternations,
    /// anchors, counts, case-insensitive ones.
    static let rules: [(pattern: String, caseInsensitive: Bool)] = [
        ("Out of memory: Killed process \\d+", false),
        ("segfault at [0-9a-f]+ ip [0-9a-f]+", false),
        ("No space left on device", false),
        ("I/O error, dev sd[a-z]+, sector \\d+", false),
        ("Failed password for (invalid user )?\\w+ from [\\d.]+", false),
        ("(?:error|fail(?:ed|ure)?)", true),
        ("kernel: .*(?:EXT4|XFS)-fs error", false),
        ("^\\w{3} +\\d+ \\d\\d:\\d\\d:\\d\\d \\S+ CRON\\[\\d+\\]: \\(root\\) CMD", false),
        ("watchdog: BUG: soft lockup", false),
        ("temperature above threshold", true),
        ("link is (?:down|not ready)", false),
        ("certificate (?:has )?expired", true),
        ("Connection (?:reset|timed out|refused)", false),
        ("\\bpanic\\b", false),
        ("systemd\\[1\\]: \\S+\\.service: Main process exited, code=exited, status=[1-9]\\d*", false),
        ("authentication failure;.*user=root", false),
        ("usb \\d+-\\d+(?:\\.\\d+)*: device descriptor read/\\d+, error -\\d+", false),
        ("(?:ECC|MCE).*(?:corrected|uncorrected) error", true),
        ("gpsd\\[\\d+\\]: .*(?:lost|no) fix", true),
        ("dhclient.*DHCPNAK", false),
    ]

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pb-logbench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("syslog")
        var random = BenchRandom(seed: seed)
        let text = (0..<lines).map { Self.line($0, using: &random) }
        let joined = text.joined(separator: "\n") + "\n"
        try Data(joined.utf8).write(to: file)
        let bytes = joined.utf8.count

        let patterns = try Self.rules.map { try SafePattern($0.pattern, caseInsensitive: $0.caseInsensitive) }
        var best = Double.infinity
        var counts = Array(repeating: 0, count: patterns.count)
        var steps = 0
        for _ in 0..<max(1, runs) {
            var found = Array(repeating: 0, count: patterns.count)
            let scanner = LogScanner(patterns: patterns)
            let start = Self.threadCPUSeconds()
            let summary = try scanner.scan(file: file) { index, _ in found[index] += 1 }
            let elapsed = Self.threadCPUSeconds() - start
            guard summary.lines == lines else { throw ValidationError("read \(summary.lines) lines, wrote \(lines)") }
            best = min(best, elapsed)
            counts = found
            steps = scanner.steps
        }

        var baseline: (rate: Double, agree: Bool)?
        if baselineLines > 0 {
            let expressions = try Self.rules.map {
                try NSRegularExpression(pattern: $0.pattern, options: $0.caseInsensitive ? [.caseInsensitive] : [])
            }
            let sample = Array(text.prefix(baselineLines))
            let matchers = patterns.map(SafePatternMatcher.init)
            var theirs = 0
            let start = Self.threadCPUSeconds()
            for line in sample {
                let range = NSRange(line.startIndex..., in: line)
                for expression in expressions where expression.firstMatch(in: line, range: range) != nil { theirs += 1 }
            }
            let elapsed = Self.threadCPUSeconds() - start
            let ours = sample.reduce(0) { sum, line in sum + matchers.filter { $0.matches(line) }.count }
            baseline = (Double(sample.count) / max(elapsed, 1e-9), ours == theirs)
        }

        let hostile = String(repeating: "a", count: 30_000) + "!"
        let catastrophic = SafePatternMatcher(try SafePattern("(a+)+$"))
        let hostileStart = Self.threadCPUSeconds()
        let hostileMatched = catastrophic.matches(hostile)
        let hostileMilliseconds = (Self.threadCPUSeconds() - hostileStart) * 1000

        let rate = Double(lines) / best
        let matching = counts.reduce(0, +)
        print("""
            ## Log analysis: \(Self.rules.count) rules over \(lines) syslog-like lines (\(String(format: "%.1f", Double(bytes) / 1_048_576)) MiB)

            | engine | lines/s per core | MiB/s per core |
            |---|---|---|
            | SafePattern via `LogScanner` (best of \(max(1, runs)), thread CPU time) | \(Int(rate)) | \(String(format: "%.1f", Double(bytes) / 1_048_576 / best)) |
            \(baseline.map { "| NSRegularExpression, same patterns (\(min(baselineLines, lines)) lines) | \(Int($0.rate)) | – |" } ?? "")

            matches: \(matching) (\(String(format: "%.2f", Double(matching) / Double(lines) * 100)) per 100 lines); NFA steps per line: \(String(format: "%.1f", Double(steps) / Double(lines)))
            \(baseline.map { $0.agree ? "NSRegularExpression finds the same number of matches" : "NSRegularExpression DISAGREES on the match count" } ?? "")
            `(a+)+$` on 30 000 × 'a' + '!': \(String(format: "%.2f", hostileMilliseconds)) ms, \(catastrophic.steps) steps, matched: \(hostileMatched)
            """)
        if let baseline, !baseline.agree { throw ValidationError("SafePattern and NSRegularExpression disagree") }
    }

    static func threadCPUSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    static let hosts = (1...40).map { "term-\($0)" }
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// One syslog line: mostly routine messages, about 1 in 100 something a rule looks for.
    static func line(_ number: Int, using random: inout BenchRandom) -> String {
        let second = number / 20
        let stamp = months[(second / 2_592_000) % 12] + String(format: " %2d %02d:%02d:%02d", 1 + (second / 86400) % 28, (second / 3600) % 24, (second / 60) % 60, second % 60)
        let host = hosts[Int.random(in: 0..<hosts.count, using: &random)]
        let pid = Int.random(in: 100...65000, using: &random)
        let routine = [
            "sshd[\(pid)]: Accepted publickey for field from 10.1.\(pid % 256).\(pid % 200) port \(pid) ssh2: ED25519 SHA256:Xk2mP9",
            "CRON[\(pid)]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
            "systemd[1]: Started Session \(pid) of user field.",
            "kernel: [\(pid).\(pid % 1000)] wlan0: associated with 52:54:00:\(pid % 90 + 10):ab:cd",
            "NetworkManager[\(pid)]: <info>  [\(pid).1234] device (wwan0): state change: activated -> activated",
            "gpsd[\(pid)]: gpsd_activate(): activated GPS (fd 7) at 9600 baud, 3D fix",
            "piggyback-agent[\(pid)]: session done: 4 telexes, 1.2 KiB sent, nothing to deliver",
            "rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2302.0\"] rsyslogd was HUPed",
            "dhclient[\(pid)]: DHCPACK of 192.168.\(pid % 250).\(pid % 240) from 192.168.1.1",
            "app[\(pid)]: uploaded 12 records to /var/spool/results in \(pid % 900) ms",
        ]
        let rare = [
            "kernel: Out of memory: Killed process \(pid) (app) total-vm:812340kB",
            "kernel: app[\(pid)]: segfault at 7f3a\(pid) ip 55d0c1\(pid) sp 7ffd error 4 in app",
            "app[\(pid)]: write /var/spool/results: No space left on device",
            "kernel: blk_update_request: I/O error, dev sda, sector \(pid * 8)",
            "sshd[\(pid)]: Failed password for invalid user admin from 203.0.113.\(pid % 250) port \(pid) ssh2",
            "kernel: EXT4-fs error (device mmcblk0p2): ext4_find_entry:1455: inode #\(pid)",
            "kernel: watchdog: BUG: soft lockup - CPU#1 stuck for 23s!",
            "thermald[\(pid)]: Temperature above threshold, cpu clock throttled",
            "kernel: e1000e: eth0 NIC Link is Down; link is down",
            "app[\(pid)]: TLS: certificate has expired (notAfter 2024-03-01)",
            "app[\(pid)]: upload: Connection timed out after 30000 ms",
            "systemd[1]: app.service: Main process exited, code=exited, status=1/FAILURE",
            "gpsd[\(pid)]: GPS lost fix, no satellites",
            "dhclient[\(pid)]: DHCPNAK from 192.168.1.1",
        ]
        let message = Int.random(in: 0..<100, using: &random) == 0
            ? rare[Int.random(in: 0..<rare.count, using: &random)]
            : routine[Int.random(in: 0..<routine.count, using: &random)]
        return "\(stamp) \(host) \(message)"
    }
}
