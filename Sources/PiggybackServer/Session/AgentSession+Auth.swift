import Crypto
import FluentKit
import Foundation
import PiggybackProtocol

extension AgentSession {
    /// 20 → 1020: version negotiation, first-contact enrollment, proof of key possession.
    mutating func authenticate(_ auth: WireAuthenticate) async throws -> Outcome {
        let peer = ProtocolVersion.range(min: auth.protocolMin, max: auth.protocolMax)
        guard let version = ProtocolVersion.negotiate(peer: peer) else {
            throw TelexError(
                .unsupportedVersion,
                "agent speaks protocol \(ProtocolVersion.describe(peer)), this server speaks \(ProtocolVersion.describe(ProtocolVersion.supported))",
                code: TelexCode.authenticate.rawValue
            )
        }
        let deviceID = auth.deviceID
        var record: DeviceRecord
        let transcript = AuthenticationTranscript.bytes(challenge: challenge, serverID: context.serverID, deviceID: deviceID)
        if auth.hasEnrollment {
            let enrollment = auth.enrollment
            // Proof of the new key first: a bad signature must not spend a token use.
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: enrollment.publicKey),
                key.isValidSignature(auth.signature, for: transcript)
            else {
                throw TelexError(.authDenied, "enrollment of \(deviceID) is not signed with the key it presents", code: 20)
            }
            switch try await context.enrollment.enroll(
                deviceID: deviceID, publicKey: Array(enrollment.publicKey),
                hostname: enrollment.hostname, secret: enrollment.tokenSecret
            ) {
            case .success(let enrolled): record = enrolled
            case .failure(let error): throw error
            }
        } else {
            guard let found = try await DeviceRecord.find(deviceID, on: context.store.db) else {
                throw TelexError(.authDenied, "device \(deviceID) is not enrolled here; enroll it with a token from `piggyback admin enroll-token`", code: 20)
            }
            record = found
        }
        switch DeviceRecord.State(rawValue: record.state) {
        case .accepted: break
        case .revoked: throw TelexError(.authDenied, "device \(deviceID) has been revoked by an administrator", code: 20)
        case .pending, nil: throw TelexError(.authDenied, "device \(deviceID) is waiting for an administrator's approval", code: 20)
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey),
            key.isValidSignature(auth.signature, for: transcript)
        else {
            throw TelexError(.authDenied, "signature of device \(deviceID) does not verify against this session's challenge", code: 20)
        }
        challenge = []  // one signature per challenge
        record.lastSeen = Date()
        record.lastAddress = remoteAddress
        try await record.save(on: context.store.db)
        device = record
        logger[metadataKey: "device"] = "\(deviceID)"
        logger.info("terminal authenticated", metadata: ["enrolled": "\(auth.hasEnrollment)", "version": "\(version)"])

        var result = WireAuthResult()
        result.accepted = true
        result.protocolVersion = version
        result.inventory = try await context.requests.resolve(deviceID: record.id ?? "")
        result.inventoryVersion = UInt64(max(0, record.inventoryVersion))
        result.chunkSize = UInt32(context.configuration.chunkSize)
        result.window = UInt32(context.configuration.window)
        result.packageSigningKey = context.catalog.signer.publicKey
        return Outcome(replies: [.authResult(result)])
    }

    /// 60: keeps the reported position for position-dependent delivery.
    func store(position: WirePosition) async throws {
        guard let device else { return }
        guard !position.unknown else { return }
        guard (-90...90).contains(position.lat), (-180...180).contains(position.lon), position.accuracyM.isFinite, position.accuracyM >= 0 else {
            throw TelexError(.invalid, "position \(position.lat),\(position.lon) ±\(position.accuracyM) m is not on earth", code: 60)
        }
        // Stored in the same shape the admin API returns it.
        let json = AdminJSON.Position(
            lat: position.lat, lon: position.lon, accuracy_m: position.accuracyM,
            source: position.source, time_unix_ms: Double(position.timeUnixMs)
        )
        device.position = String(decoding: try JSONEncoder.sorted.encode(json), as: UTF8.self)
        try await device.save(on: context.store.db)
    }

    /// 30: applies the full inventory or the delta, and holds its version (the next 1020
    /// acknowledges it). A delta against a version the server does not hold is not merged:
    /// the version is reset so that the next session sends everything.
    func store(inventory upload: WireInventory) async throws {
        guard let device else { return }
        let inventory = try upload.unpacked()
        if try await context.inventory.apply(inventory, to: device) {
            device.inventoryVersion = Int64(clamping: inventory.version)
            if let hostname = inventory.sections.first(where: { $0.name == "os" })?.items.first(where: { $0.key == "hostname" })?.value {
                device.hostname = hostname
            }
        } else {
            logger.notice("inventory delta against an unknown base; asking for a full one next time", metadata: [
                "base": "\(inventory.baseVersion)", "held": "\(device.inventoryVersion)",
            ])
            device.inventoryVersion = 0
        }
        try await device.save(on: context.store.db)
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so stored JSON is byte-stable.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
