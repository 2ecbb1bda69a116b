/// The bytes a terminal signs in its 20.
///
/// They bind the signature to this server's fresh challenge (no replay), to the server
/// (no relay to another server) and to the device id (no identity swap).
public enum AuthenticationTranscript {
    static let label = Array("piggyback/v1 authenticate".utf8)

    /// The transcript for one challenge.
    public static func bytes(challenge: [UInt8], serverID: String, deviceID: String) -> [UInt8] {
        var out = label
        out.append(0)
        out.append(contentsOf: lengthPrefixed(challenge))
        out.append(contentsOf: lengthPrefixed(Array(serverID.utf8)))
        out.append(contentsOf: lengthPrefixed(Array(deviceID.utf8)))
        return out
    }

    static func lengthPrefixed(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(clamping: bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }
}
