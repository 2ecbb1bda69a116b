import Foundation

/// One report from gpsd's JSON protocol (one line, one object), reduced to what the agent uses.
///
/// gpsd adds fields and classes over time; anything not listed here decodes as `.other`
/// and unknown fields are ignored, so a newer gpsd keeps working.
enum GPSDMessage: Sendable, Equatable {
    /// Time-position-velocity: the fix.
    struct TPV: Sendable, Equatable, Decodable {
        /// The device that produced it.
        var device: String?
        /// 0/1: no fix, 2: 2D, 3: 3D.
        var mode: Int?
        /// The receiver's time of the fix (ISO 8601), informational only.
        var time: String?
        var lat: Double?
        var lon: Double?
        /// Estimated horizontal position error, metres (95 %).
        var eph: Double?
        /// Estimated longitude error, metres (95 %).
        var epx: Double?
        /// Estimated latitude error, metres (95 %).
        var epy: Double?
    }

    /// Satellites in view and in use.
    struct Sky: Sendable, Equatable, Decodable {
        struct Satellite: Sendable, Equatable, Decodable {
            var used: Bool?
        }

        var device: String?
        var hdop: Double?
        /// Satellites in use (gpsd ≥ 3.23 sends the count directly).
        var uSat: Int?
        var satellites: [Satellite]?

        /// Satellites used in the solution, from `uSat` or by counting.
        var satellitesUsed: Int? {
            uSat ?? satellites.map { list in list.filter { $0.used == true }.count }
        }
    }

    /// gpsd's greeting: its release and protocol version.
    case version(release: String, protocolMajor: Int)
    /// The devices gpsd reads from (paths).
    case devices([String])
    /// gpsd confirms the watch; `enabled` false means it refused it.
    case watch(enabled: Bool)
    case tpv(TPV)
    case sky(Sky)
    /// gpsd rejected a request.
    case error(String)
    /// Any other class (DEVICE, GST, ATT, PPS, TOFF, …), ignored.
    case other(String)

    private struct Envelope: Decodable {
        var `class`: String
    }

    private struct Version: Decodable {
        var release: String?
        var proto_major: Int?
    }

    private struct Devices: Decodable {
        struct Device: Decodable { var path: String? }
        var devices: [Device]?
    }

    private struct Watch: Decodable {
        var enable: Bool?
    }

    private struct Failure: Decodable {
        var message: String?
    }

    /// Decodes one line; throws on anything that is not a JSON object with a string `class`.
    static func parse(_ line: some Collection<UInt8>, decoder: JSONDecoder = JSONDecoder()) throws(GPSDProtocolError) -> GPSDMessage {
        let data = Data(line)
        do {
            let envelope = try decoder.decode(Envelope.self, from: data)
            switch envelope.class {
            case "VERSION":
                let version = try decoder.decode(Version.self, from: data)
                return .version(release: version.release ?? "?", protocolMajor: version.proto_major ?? 0)
            case "DEVICES":
                let devices = try decoder.decode(Devices.self, from: data)
                return .devices((devices.devices ?? []).map { $0.path ?? "?" })
            case "WATCH":
                return .watch(enabled: try decoder.decode(Watch.self, from: data).enable ?? false)
            case "TPV":
                return .tpv(try decoder.decode(TPV.self, from: data))
            case "SKY":
                return .sky(try decoder.decode(Sky.self, from: data))
            case "ERROR":
                return .error(try decoder.decode(Failure.self, from: data).message ?? "")
            default:
                return .other(envelope.class)
            }
        } catch {
            throw .malformed("gpsd sent a line that is not a report: \(String(decoding: line.prefix(120), as: UTF8.self))")
        }
    }
}

extension GPSDMessage.TPV {
    /// The fix this report carries, or nil when gpsd has no 2D/3D fix or the numbers are unusable.
    ///
    /// Accuracy is gpsd's `eph`; else the combined `epx`/`epy`; else the configured
    /// conservative default for the fix mode (receivers that report no error estimate).
    func fix(defaults configuration: GPSDClientConfiguration, now: ContinuousClock.Instant = .now) -> PositionFix? {
        guard let mode, mode >= 2, let lat, let lon else { return nil }
        let estimated: Double?
        if let eph, eph.isFinite, eph > 0 {
            estimated = eph
        } else if let epx, let epy, epx.isFinite, epy.isFinite, epx > 0 || epy > 0 {
            estimated = (epx * epx + epy * epy).squareRoot()
        } else {
            estimated = nil
        }
        let accuracy = estimated ?? (mode >= 3 ? configuration.defaultAccuracy3DMeters : configuration.defaultAccuracy2DMeters)
        let fix = PositionFix(lat: lat, lon: lon, accuracyMeters: accuracy, source: .gpsd, time: Date(), observedAt: now)
        return fix.isValid ? fix : nil
    }
}
