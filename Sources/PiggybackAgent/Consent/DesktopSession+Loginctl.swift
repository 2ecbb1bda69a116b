import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DesktopSession {
    /// Graphical session types.
    static let graphicalTypes: Set<String> = ["x11", "wayland", "mir"]

    /// The first usable graphical session from `loginctl` (active first), or nil.
    static func fromLoginctl(_ loginctl: String, environment: [String: String]) -> DesktopSession? {
        guard let executable = ExecutableLookup.find(loginctl, environment: environment) else { return nil }
        let list = run(executable, ["list-sessions", "--no-legend"])
        let candidates = parseSessionList(list).compactMap { id -> [String: String]? in
            let shown = run(executable, ["show-session", id] + ["Id", "Name", "User", "Type", "Class", "Display", "Remote", "State", "Active"].map { "--property=\($0)" })
            return parseProperties(shown)
        }
        let usable = candidates.sorted { ($0["Active"] == "yes" ? 0 : 1) < ($1["Active"] == "yes" ? 0 : 1) }
        for properties in usable {
            if let session = session(from: properties, exists: { access($0, F_OK) == 0 }) { return session }
        }
        return nil
    }

    /// The session ids of `loginctl list-sessions --no-legend` (first column).
    static func parseSessionList(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            line.split(whereSeparator: \.isWhitespace).first.map(String.init)
        }
    }

    /// `Key=Value` lines of `loginctl show-session`.
    static func parseProperties(_ text: String) -> [String: String] {
        var properties: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let equals = line.firstIndex(of: "=") else { continue }
            properties[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return properties
    }

    /// A local graphical user session whose user bus exists, and which we may notify
    /// (ours, or anyone's when root); `exists` checks a path.
    static func session(from properties: [String: String], exists: (String) -> Bool, ourUID: UInt32 = getuid()) -> DesktopSession? {
        guard graphicalTypes.contains(properties["Type"] ?? ""),
              (properties["Class"] ?? "user") == "user",
              properties["Remote"] != "yes",
              properties["State"] != "closing",
              let uid = properties["User"].flatMap({ UInt32($0) })
        else { return nil }
        guard ourUID == 0 || ourUID == uid else { return nil }
        let runtime = "/run/user/\(uid)"
        guard exists("\(runtime)/bus") else { return nil }
        var environment = ["XDG_RUNTIME_DIR": runtime, "DBUS_SESSION_BUS_ADDRESS": "unix:path=\(runtime)/bus"]
        if let display = properties["Display"], !display.isEmpty { environment["DISPLAY"] = display }
        if properties["Type"] == "wayland", exists("\(runtime)/wayland-0") { environment["WAYLAND_DISPLAY"] = "wayland-0" }
        return DesktopSession(user: properties["Name"], uid: uid, gid: account(uid: uid)?.gid, environment: environment)
    }

    /// loginctl's output, or "" when it fails or takes longer than two seconds.
    static func run(_ executable: URL, _ arguments: [String]) -> String {
        let child = BoundedProcess(executable: executable, arguments: arguments, deadline: .now.advanced(by: .seconds(2)))
        guard let outcome = try? child.runBlocking(), outcome.ending == .exited(0) else { return "" }
        return outcome.stdout
    }
}
