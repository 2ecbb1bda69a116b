import Crypto
import FluentKit
import Foundation
import PiggybackProtocol

/// Enrollment tokens: issued by administrators, consumed by terminals at first contact.
struct Enrollment: Sendable {
    let store: ServerStore

    /// Issues a token valid for `lifetime` and `uses` enrollments.
    func issue(servers: [String], caFingerprint: String, lifetime: TimeInterval, uses: Int) async throws -> (EnrollmentToken, Date) {
        let secret = Base64URL.encode(Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
        let expires = Date().addingTimeInterval(lifetime)
        try await EnrollTokenRecord(secretHash: Self.hash(secret), expiresAt: expires, uses: uses).create(on: store.db)
        return (EnrollmentToken(servers: servers, caFingerprint: caFingerprint, secret: secret), expires)
    }

    /// Registers a new device with a token secret; the reason for refusal on failure.
    func enroll(deviceID: String, publicKey: [UInt8], hostname: String, secret: String) async throws -> Result<DeviceRecord, TelexError> {
        guard publicKey.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil else {
            return .failure(TelexError(.invalid, "enrollment public key is not a 32-byte Ed25519 key", code: TelexCode.authenticate.rawValue))
        }
        guard UUID(uuidString: deviceID) != nil else {
            return .failure(TelexError(.invalid, "device id \(deviceID) is not a UUID", code: TelexCode.authenticate.rawValue))
        }
        return try await store.db.transaction { db -> Result<DeviceRecord, TelexError> in
            if let existing = try await DeviceRecord.find(deviceID, on: db) {
                // A retried first session (the 1020 was lost): same key, nothing to do.
                if existing.publicKey == Data(publicKey) { return .success(existing) }
                return .failure(TelexError(.authDenied, "device id \(deviceID) is already enrolled with another key", code: 20))
            }
            guard let token = try await EnrollTokenRecord.query(on: db).filter(\.$secretHash == Self.hash(secret)).first() else {
                return .failure(TelexError(.authDenied, "enrollment token is unknown (mistyped, or issued by another server)", code: 20))
            }
            guard token.expiresAt > Date() else {
                return .failure(TelexError(.authDenied, "enrollment token expired at \(token.expiresAt); ask for a new one", code: 20))
            }
            guard token.usesLeft > 0 else {
                return .failure(TelexError(.authDenied, "enrollment token has been used up; ask for a new one", code: 20))
            }
            token.usesLeft -= 1
            try await token.save(on: db)
            let device = DeviceRecord(id: deviceID, publicKey: Data(publicKey), hostname: hostname, state: .accepted)
            try await device.create(on: db)
            return .success(device)
        }
    }

    static func hash(_ secret: String) -> String {
        Hex.encode(SHA256.hash(data: Data(secret.utf8)))
    }
}
