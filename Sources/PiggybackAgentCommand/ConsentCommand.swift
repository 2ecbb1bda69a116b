import ArgumentParser
import Foundation
import PiggybackAgent

/// `piggyback agent consent`: show or answer the running daemon's open question about
/// offered downloads (consent policy `ask`), for terminals without a desktop.
struct ConsentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consent",
        abstract: "Show or answer the agent daemon's question about offered downloads.",
        discussion: """
            Under consent policy ask, the daemon holds a question open while the server waits \
            (then it takes the configured default). Without options this shows the question; \
            --accept downloads the items now, --defer leaves them for the next connection. \
            Exit status: 0 done, 1 no question pending (or the daemon refused), 4 no daemon running.
            """
    )

    @ParentCommand var agent: AgentCommand
    @Flag(help: "Print the question as JSON ({\"pending\":null} when none).") var json = false
    @Flag(help: "Download the offered items now.") var accept = false
    @Flag(name: .customLong("defer"), help: "Not now: the server keeps the items for the next connection.") var later = false
    @Option(help: "Answer only if the open question still has this id (as shown).") var id: String?

    func validate() throws {
        if accept && later { throw ValidationError("--accept and --defer exclude each other") }
        if json && (accept || later) { throw ValidationError("--json applies to showing the question, not to answering it") }
        if id != nil && !(accept || later) { throw ValidationError("--id needs --accept or --defer") }
        if let id, ConsentRequest(arguments: ["accept", Substring(id)]) == nil {
            throw ValidationError("--id must be the question's id as shown (letters, digits, '-'; at most 64)")
        }
    }

    func run() async throws {
        if accept || later {
            let answer = try await ControlCommands.send(.consent(.answer(accept ? .accept : .defer, id: id)), data: agent.dataPath)
            guard answer.hasPrefix("ok") else { try fail(answer) }
            print(answer)
            return
        }
        let answer = try await ControlCommands.send(.consent(.show), data: agent.dataPath)
        if answer.hasPrefix("error") { try fail(answer) }
        guard let status = try? ConsentStatus.decode(answer) else { try fail("error: the daemon answered something unexpected: \(answer.prefix(200))") }
        if json { print(answer) }
        guard let question = status.pending else {
            if !json { FileHandle.standardError.write(Data("piggyback agent: no question about downloads is pending\n".utf8)) }
            throw ExitCode(1)
        }
        if !json { print(describe(question)) }
    }

    /// The question for a person: the items with sizes and reasons, the time left, how to answer.
    func describe(_ question: ConsentStatus.Pending) -> String {
        let then = question.defaultAnswer.map { "; then \($0 == .accept ? "download" : "later")" } ?? ""
        var lines = ["\(ConsentText.title(question.items)) (question \(question.id), \(question.secondsLeft) s left\(then))"]
        let nameWidth = question.items.map { "\($0.name) \($0.version)".count }.max() ?? 0
        for item in question.items {
            let label = "\(item.name) \(item.version)"
            let size = ConsentText.size(item.size)
            lines.append("  \(label)\(String(repeating: " ", count: nameWidth - label.count))  \(String(repeating: " ", count: max(0, 10 - size.count)))\(size)  \(item.reason)")
        }
        let dataOption = agent.data.map { " --data \($0)" } ?? ""
        lines.append("Answer: piggyback agent\(dataOption) consent --accept --id \(question.id)   (or --defer)")
        return lines.joined(separator: "\n")
    }

    /// The daemon's refusal on stderr, exit status 1.
    func fail(_ answer: String) throws -> Never {
        let message = answer.hasPrefix("error: ") ? String(answer.dropFirst(7)) : answer
        FileHandle.standardError.write(Data("piggyback agent: \(message)\n".utf8))
        throw ExitCode(1)
    }
}
