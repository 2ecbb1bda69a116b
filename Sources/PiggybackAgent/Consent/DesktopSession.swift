import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A graphical session to show the consent notification in: its user (when that is not
/// us — a root daemon notifies the logged-in user) and the environment notify-send needs
/// to reach that session's notification server.
public struct DesktopSession: Sendable, Equatable {
    /// The session's user name, when known.
    public var user: String?
    /// The session's user id; nil means the agent's own user.
    public var uid: UInt32?
    /// The session user's primary group.
    public var gid: UInt32?
    /// `DISPLAY`, `WAYLAND_DISPLAY`, `DBUS_SESSION_BUS_ADDRESS`, `XDG_RUNTIME_DIR` (those known).
    public var environment: [String: String]

    /// Creates a session description.
    public init(user: String? = nil, uid: UInt32? = nil, gid: UInt32? = nil, environment: [String: String]) {
        self.user = user
        self.uid = uid
        self.gid = gid
        self.environment = environment
    }

    /// The variables passed on to notify-send.
    static let variables = ["DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"]

    /// The session the agent runs in (`DISPLAY` or `WAYLAND_DISPLAY`, and
    /// `DBUS_SESSION_BUS_ADDRESS`), else the first graphical session `loginctl` knows whose
    /// user bus exists (`/run/user/UID/bus`), preferring the active one; nil when none.
    /// Blocks for at most a few seconds (loginctl); sessions of other users only when root.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment, loginctl: String = "loginctl") -> DesktopSession? {
        if let own = fromEnvironment(environment) { return own }
        return fromLoginctl(loginctl, environment: environment)
    }

    /// The agent's own graphical session, from its environment.
    static func fromEnvironment(_ environment: [String: String]) -> DesktopSession? {
        func has(_ name: String) -> Bool { !(environment[name] ?? "").isEmpty }
        guard has("DISPLAY") || has("WAYLAND_DISPLAY"), has("DBUS_SESSION_BUS_ADDRESS") else { return nil }
        return DesktopSession(environment: environment.filter { variables.contains($0.key) && !$0.value.isEmpty })
    }

    /// Whether notify-send must run as the session's user rather than as us.
    var needsUserSwitch: Bool {
        guard let uid else { return false }
        return getuid() == 0 && uid != 0
    }

    /// The user's primary group and home directory from the password database.
    static func account(uid: UInt32) -> (gid: UInt32, home: String)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        guard getpwuid_r(uid_t(uid), &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return (UInt32(entry.pw_gid), entry.pw_dir.map { String(cString: $0) } ?? "/")
    }
}
