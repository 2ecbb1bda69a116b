import PiggybackProtocol

/// Where `--trace` lines go: one line per telex, `→ 30 inventory 41 B`.
public struct SessionTrace: Sendable {
    let sink: (@Sendable (String) -> Void)?

    /// A trace that writes each line to `sink`; nil traces nothing.
    public init(_ sink: (@Sendable (String) -> Void)?) {
        self.sink = sink
    }

    func record(sent: Bool, code: TelexCode, payload: Int) {
        sink?("\(sent ? "→" : "←") \(code.rawValue) \(code.name) \(payload) B")
    }

    func note(_ text: String) {
        sink?("  \(text)")
    }
}
