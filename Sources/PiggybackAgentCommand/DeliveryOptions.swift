import ArgumentParser
import Foundation
import PiggybackAgent

/// Flags for what the agent does with offered packages: consent and installation.
struct DeliveryOptions: ParsableArguments {
    @Option(name: .long, help: "Answer to offers: accept, defer, or ask (desktop notification, `piggyback agent consent`, or the terminal).")
    var consent: String = "accept"

    @Option(name: .long, help: "ask: seconds to wait for the user's answer.")
    var consentTimeout: Int = 120

    @Option(name: .long, help: "ask: the answer when nobody answers in time (accept or defer).")
    var consentDefault: String = "defer"

    @Option(name: .long, help: "A directory files packages may be installed under; repeat. Default: DATA/files and /opt.")
    var installRoot: [String] = []

    func validate() throws {
        guard AgentConfiguration.Consent(rawValue: consent) != nil else {
            throw ValidationError("--consent must be one of: \(AgentConfiguration.Consent.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ConsentAnswer(rawValue: consentDefault) != nil else {
            throw ValidationError("--consent-default must be accept or defer")
        }
        guard (1...86_400).contains(consentTimeout) else { throw ValidationError("--consent-timeout must be 1…86400 seconds") }
        for root in installRoot where !root.hasPrefix("/") {
            throw ValidationError("--install-root \(root) must be an absolute directory")
        }
    }

    /// Applies the flags to the configuration.
    func apply(to configuration: inout AgentConfiguration) {
        configuration.consent = AgentConfiguration.Consent(rawValue: consent) ?? .accept
        configuration.consentPrompt.timeout = .seconds(consentTimeout)
        configuration.consentPrompt.defaultAnswer = ConsentAnswer(rawValue: consentDefault) ?? .defer
        if !installRoot.isEmpty { configuration.installer.allowedTargetRoots = installRoot }
    }
}
