import Foundation
import PiggybackAgent

#if canImport(Glibc)
import Glibc
#endif

/// One progress line per running transfer on a terminal, for `agent --once`: how far it
/// is, how fast, and what the throttle is doing about it.
struct ProgressBar: Sendable {
    let board: TransferBoard
    /// Between redraws.
    var interval: Duration = .milliseconds(200)

    /// A line such as `↓ tool@1.0 [#####.....]  52 %  10.4/20.0 MiB  2.1 MiB/s  yielding to other traffic`.
    static func line(_ transfer: TransferBoard.Transfer, width: Int = 24) -> String {
        let fraction = transfer.total > 0 ? min(1, Double(transfer.done) / Double(transfer.total)) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let arrow = transfer.direction == "upload" ? "↑" : "↓"
        let name = transfer.name.count > 32 ? "…" + transfer.name.suffix(31) : transfer.name
        let why = transfer.reason == "off" ? "" : "  " + (RateDecision.Reason(rawValue: transfer.reason)?.description ?? transfer.reason)
        return "\(arrow) \(name) [\(bar)] \(String(format: "%3d", Int(fraction * 100))) %  "
            + "\(mib(transfer.done))/\(mib(transfer.total)) MiB  \(RateDecision.format(rate: transfer.bytesPerSecond))\(why)"
    }

    static func mib(_ bytes: UInt64) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }

    /// Redraws until cancelled, then clears what it drew.
    func run() async {
        var drawn = 0
        while !Task.isCancelled {
            let lines = await board.current.map { Self.line($0) }
            draw(lines, replacing: drawn)
            drawn = lines.count
            try? await Task.sleep(for: interval)
        }
        draw([], replacing: drawn)
    }

    /// Moves up over the previous lines, clears them, writes the new ones.
    func draw(_ lines: [String], replacing previous: Int) {
        var text = previous > 0 ? "\u{1B}[\(previous)A" : ""
        for _ in 0..<previous { text += "\u{1B}[2K\n" }
        if previous > 0 { text += "\u{1B}[\(previous)A" }
        for line in lines { text += "\u{1B}[2K" + line + "\n" }
        if !text.isEmpty { FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// Whether standard error is a terminal (no bars into pipes and log files).
    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
