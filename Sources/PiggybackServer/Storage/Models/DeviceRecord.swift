import FluentKit
import Foundation

/// A terminal: its authentication data (the seed's terminal-authentication DB) and its
/// management data (last seen, last address, inventory as reported).
final class DeviceRecord: Model, @unchecked Sendable {
    static let schema = "devices"

    /// Authentication states of a terminal.
    enum State: String, Codable, Sendable {
        case pending, accepted, revoked
    }

    @ID(custom: "id", generatedBy: .user) var id: String?
    @Field(key: "public_key") var publicKey: Data
    @Field(key: "state") var state: String
    @Field(key: "hostname") var hostname: String
    @Field(key: "enrolled_at") var enrolledAt: Date
    @OptionalField(key: "last_seen") var lastSeen: Date?
    @OptionalField(key: "last_address") var lastAddress: String?
    @Field(key: "inventory") var inventory: String
    @Field(key: "inventory_version") var inventoryVersion: Int64
    @OptionalField(key: "position") var position: String?
    @OptionalField(key: "last_result") var lastResult: String?

    init() {}

    init(id: String, publicKey: Data, hostname: String, state: State) {
        self.id = id
        self.publicKey = publicKey
        self.state = state.rawValue
        self.hostname = hostname
        self.enrolledAt = Date()
        self.inventory = "{}"
        self.inventoryVersion = 0
    }
}
