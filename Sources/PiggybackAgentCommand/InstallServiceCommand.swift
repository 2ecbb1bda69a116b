import ArgumentParser
import Foundation

/// `piggyback agent install-service`: installs the systemd unit (dist/piggyback-agent.service)
/// for this binary and enables it, so the agent is resident from boot.
struct InstallServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-service",
        abstract: "Install and enable the systemd unit that keeps the agent resident from boot."
    )

    /// `--data` is the parent's (`agent --data DIR install-service`); default /var/lib/piggyback-agent, the unit's StateDirectory.
    @ParentCommand var agent: AgentCommand
    var data: String { agent.data ?? "/var/lib/piggyback-agent" }

    @Option(help: "Where to write the unit.")
    var unitDirectory: String = "/etc/systemd/system"

    @Flag(help: "Write the unit only; do not run systemctl.")
    var noEnable = false

    func run() async throws {
        let binary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let unit = Self.unit(binary: binary, data: data)
        let url = URL(fileURLWithPath: unitDirectory).appendingPathComponent("piggyback-agent.service")
        do {
            try FileManager.default.createDirectory(atPath: unitDirectory, withIntermediateDirectories: true)
            try Data(unit.utf8).write(to: url, options: .atomic)
        } catch {
            throw ValidationError("cannot write \(url.path): \(error) (run as root?)")
        }
        print("wrote \(url.path)")
        if noEnable { return }
        for arguments in [["daemon-reload"], ["enable", "--now", "piggyback-agent.service"]] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["systemctl"] + arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ValidationError("systemctl \(arguments.joined(separator: " ")) failed (exit \(process.terminationStatus)); the unit is written, enable it by hand")
            }
        }
        print("enabled and started piggyback-agent.service")
    }

    /// The unit text: the template from dist/ with the binary and data paths filled in.
    static func unit(binary: String, data: String) -> String {
        template.replacingOccurrences(of: "@BINARY@", with: binary).replacingOccurrences(of: "@DATA@", with: data)
    }
}
