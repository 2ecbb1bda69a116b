import FluentKit
import Foundation

/// An enrollment token; only the SHA-256 of its secret is stored.
final class EnrollTokenRecord: Model, @unchecked Sendable {
    static let schema = "enroll_tokens"

    @ID(key: .id) var id: UUID?
    @Field(key: "secret_hash") var secretHash: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "uses_left") var usesLeft: Int

    init() {}

    init(secretHash: String, expiresAt: Date, uses: Int) {
        self.secretHash = secretHash
        self.createdAt = Date()
        self.expiresAt = expiresAt
        self.usesLeft = uses
    }
}
