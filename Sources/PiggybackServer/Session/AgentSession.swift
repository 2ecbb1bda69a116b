import Crypto
import FluentKit
import Foundation
import Logging
import NIOCore
import PiggybackProtocol

/// The server's side of one management session (Fig. 4), one per agent connection.
///
/// Transport-free: it takes frames and returns the telexes to send, so it can be driven
/// by the WebSocket endpoint and tested directly. Any error becomes a 1090 and ends the
/// session; nothing a peer sends can crash it.
struct AgentSession: Sendable {
    /// What to do after handling one frame.
    struct Outcome: Sendable {
        var replies: [Telex] = []
        /// Frames already encoded (file chunks), sent after `replies`.
        var frames: [ByteBuffer] = []
        var close = false
    }

    let context: ServerContext
    let remoteAddress: String
    let codec: TelexCodec
    var logger: Logger
    var sequence = TelexSequence(role: .server)
    var challenge: [UInt8] = []
    var device: DeviceRecord?
    var deviceID: String? { device?.id }
    var downloads = DownloadPlan()
    var dueOrders: [UUID: CollectionOrderRecord] = [:]
    var upload: UploadState?
    var inventoryReceived = false
    /// The position this session reported (60), for regional packages.
    var sessionPosition: WirePosition?
    /// 1060 sent; the offer follows the 60 that answers it.
    var positionAsked = false
    /// The first 1030 went out.
    var offered = false

    init(context: ServerContext, remoteAddress: String) {
        self.context = context
        self.remoteAddress = remoteAddress
        self.codec = TelexCodec(maxFrameSize: context.configuration.maxFrameSize)
        var logger = context.logger
        logger[metadataKey: "peer"] = "\(remoteAddress)"
        self.logger = logger
    }

    /// Handles one complete frame.
    mutating func receive(frame: [UInt8]) async -> Outcome {
        do {
            if let outcome = try await receiveChunk(frame: frame) { return outcome }
            let telex = try codec.decode(frame)
            try sequence.receive(telex.code)
            return try await handle(telex)
        } catch let error as TelexError {
            return refuse(error)
        } catch let error as ServerError {
            let reason: WireErrorReason = error.code == .storage ? .storage : .internal
            return refuse(TelexError(reason, error.message, code: TelexCodec.peekCode(frame)))
        } catch {
            return refuse(TelexError(.internal, "server error: \(error)", code: TelexCodec.peekCode(frame)))
        }
    }

    /// Answers a transport-level failure (oversized or malformed fragments).
    mutating func refuse(_ error: TelexError) -> Outcome {
        logger.warning("refusing session", metadata: ["reason": "\(error.reasonName)", "error": "\(error.message)", "device": "\(deviceID ?? "-")"])
        return Outcome(replies: [.serverError(error.wire)], close: true)
    }

    mutating func handle(_ telex: Telex) async throws -> Outcome {
        switch telex {
        case .discover(let discover):
            return Outcome(replies: [.serverAddress(hello(discover))])
        case .authenticate(let auth):
            return try await authenticate(auth)
        case .position(let position):
            try await store(position: position)
            if !position.unknown { sessionPosition = position }
            guard positionAsked, !offered else { return Outcome() }
            return Outcome(replies: [.delivery(try await offer())])
        case .inventory(let inventory):
            guard !inventoryReceived else {
                throw TelexError(.outOfSequence, "a session carries one inventory (30)", code: 30)
            }
            inventoryReceived = true
            try await store(inventory: inventory)
            try await store(installs: inventory.installs)
            if sessionPosition == nil, try await context.catalog.hasRegionalPackages() {
                positionAsked = true
                return Outcome(replies: [.positionRequest(WirePositionRequest())])
            }
            return Outcome(replies: [.delivery(try await offer())])
        case .deliveryStatus(let status):
            return Outcome(frames: try await progress(status))
        case .deliveryFinished:
            return Outcome(replies: [.collectInstruction(try await collectInstruction())])
        case .collectedData(let data):
            return try await collected(data)
        case .end(let end):
            try await finish(end)
            return Outcome(replies: [.endAck(WireEndAck())], close: true)
        case .terminalError(let error):
            logger.warning("agent reported an error", metadata: ["reason": "\(error.reason.name)", "error": "\(error.message)"])
            try await recordResult("agent error: \(error.reason.name): \(error.message)")
            return Outcome(close: true)
        default:
            throw TelexError(.outOfSequence, "telex \(telex.code) travels from server to terminal", code: telex.code.rawValue)
        }
    }

    mutating func hello(_ discover: WireDiscover) -> WireServerAddress {
        challenge = Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        var answer = WireServerAddress()
        answer.serverID = context.serverID
        answer.endpoints = context.endpoints.urls
        if let location = context.configuration.location {
            var loc = WireLocation()
            loc.lat = location.lat
            loc.lon = location.lon
            answer.location = loc
        }
        answer.challenge = Data(challenge)
        answer.protocolMin = ProtocolVersion.supported.lowerBound
        answer.protocolMax = ProtocolVersion.supported.upperBound
        return answer
    }

    mutating func finish(_ end: WireEnd) async throws {
        if end.reason == .rejectDelivery, let deviceID {
            for item in downloads.items.values where !item.finished {
                try await context.catalog.record(deviceID: deviceID, packageID: item.packageID, state: .deferred, detail: "rejected by the terminal: \(end.detail)")
            }
        }
        let result = end.reason == .done ? "ok" : "\(end.reason): \(end.detail)"
        try await recordResult(result)
        logger.info("session ended", metadata: ["device": "\(deviceID ?? "-")", "result": "\(result)"])
    }

    func recordResult(_ result: String) async throws {
        guard let device else { return }
        device.lastResult = result
        device.lastSeen = Date()
        try await device.save(on: context.store.db)
    }
}
