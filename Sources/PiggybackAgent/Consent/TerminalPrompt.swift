import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks on the terminal of an interactive one-shot run (`piggyback agent --once` typed by
/// a user): prints the items and reads one line, `y`/`yes`/`accept` or `l`/`later`/`n`/`defer`;
/// an empty line takes the default.
struct TerminalPrompt: Sendable {
    let items: [ConsentItem]
    let defaultAnswer: ConsentAnswer

    /// Reads the answer from `input` until `deadline`; nil at the deadline, at end of input
    /// or when the task is cancelled.
    func ask(until deadline: ContinuousClock.Instant, input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) async -> ConsentAnswer? {
        let prompt = self
        return await BlockingWork.run(name: "piggyback-consent-prompt") { flag in
            prompt.askBlocking(until: deadline, input: input, output: output, cancelled: flag)
        }
    }

    func askBlocking(until deadline: ContinuousClock.Instant, input: Int32, output: Int32, cancelled: BlockingWork.Flag) -> ConsentAnswer? {
        let seconds = Int(ContinuousClock.now.duration(to: deadline).seconds.rounded())
        var text = ConsentText.title(items) + "\n" + items.map { "  " + ConsentText.line($0) }.joined(separator: "\n") + "\n"
        text += question(seconds: seconds)
        emit(text, to: output)
        var line: [UInt8] = []
        while !cancelled.isRaised && ContinuousClock.now < deadline {
            var descriptor = pollfd(fd: input, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, BlockingWork.pollSlice(until: deadline))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { continue }
            var byte: UInt8 = 0
            let count = read(input, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return nil }
            guard byte == 0x0A else {
                if line.count < 256 { line.append(byte) }
                continue
            }
            if let answer = Self.parse(String(decoding: line, as: UTF8.self), defaultAnswer: defaultAnswer) { return answer }
            line.removeAll()
            emit("Please answer y (download now) or l (later): ", to: output)
        }
        emit("\n", to: output)
        return nil
    }

    func question(seconds: Int) -> String {
        "Download now? [y]es / [l]ater (in \(seconds) s: \(defaultAnswer == .accept ? "yes" : "later")): "
    }

    /// The answer a typed line means; nil when it means none.
    static func parse(_ line: String, defaultAnswer: ConsentAnswer) -> ConsentAnswer? {
        switch line.trimmingCharacters(in: .whitespaces).lowercased() {
        case "": defaultAnswer
        case "y", "yes", "a", "accept", "d", "download": .accept
        case "l", "later", "n", "no", "defer": .defer
        default: nil
        }
    }

    func emit(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            bytes = bytes.dropFirst(count)
        }
    }
}
