import ArgumentParser
import Foundation
import PiggybackAgent

/// `piggyback agent trigger`: ask the running daemon for a session now.
struct TriggerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "trigger", abstract: "Ask the running agent daemon for a session now.")
    @ParentCommand var agent: AgentCommand

    func run() async throws {
        let answer = try await ControlCommands.send(.trigger, data: agent.dataPath)
        print(answer)
        if answer.hasPrefix("error") { throw ExitCode(1) }
    }
}

/// `piggyback agent status`: the daemon's monitor state, last trigger and last session.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the running agent daemon's state.")
    @ParentCommand var agent: AgentCommand
    @Flag(help: "Print the status as JSON.") var json = false

    func run() async throws {
        let answer = try await ControlCommands.send(.status, data: agent.dataPath)
        if json { return print(answer) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        guard let status = try? decoder.decode(DaemonStatus.self, from: Data(answer.utf8)) else { return print(answer) }
        func when(_ date: Date?) -> String { date.map { $0.formatted(.iso8601) } ?? "never" }
        print("daemon pid \(status.pid), up since \(when(status.startedAt))\(status.busy ? ", session running" : "")")
        print("network: \(status.network)\(status.interface.map { " via \($0)" } ?? "")")
        print("last event: \(status.lastEvent ?? "none") (\(when(status.lastEventAt)))")
        print("last trigger: \(status.lastTrigger.map { "\($0.kinds.joined(separator: ",")) at \(when($0.at))" } ?? "none")")
        if let session = status.lastSession {
            print("last session: \(when(session.started)) → \(session.result)\(session.server.map { " with \($0)" } ?? "")\(session.serverReason.map { " (\($0))" } ?? "")")
            if let summary = session.summary { print("  \(summary)") }
        } else {
            print("last session: none")
        }
        if let conditions = status.conditions {
            print("conditions: \(conditions.metered ? "metered (\(conditions.meteredSource))" : "unmetered"), battery \(conditions.batteryPercent.map { "\($0) %\(conditions.discharging ? " discharging" : "")" } ?? "none")")
        }
        if let policy = status.policy, let limit = policy.maxDeliveryBytes { print("policy: deliveries ≤ \(limit) B (\(policy.reason))") }
        if let next = status.nextSessionAt { print("next session at \(when(next))") }
        for transfer in status.transfers ?? [] {
            print("transfer: \(ProgressBar.line(transfer))")
            if transfer.throttle != "off" { print("  rate: \(transfer.throttle)") }
        }
    }
}

enum ControlCommands {
    static func send(_ command: ControlServer.Command, data: String) async throws -> String {
        try await send(.command(command), data: data)
    }

    /// Sends a request to the daemon of `data`; no daemon: a message on stderr, exit code 4.
    static func send(_ request: ControlServer.Request, data: String) async throws -> String {
        do {
            return try await ControlClient.send(request, path: AgentDaemon.controlPath(dataDirectory: URL(fileURLWithPath: data)))
        } catch let error as AgentError {
            FileHandle.standardError.write(Data("piggyback agent: \(error.message)\n".utf8))
            throw ExitCode(4)
        }
    }
}
