import Foundation
import PiggybackProtocol
import Testing

/// One sample of every telex, with a non-trivial body where the message has fields.
func sampleTelexes() -> [Telex] {
    var discover = WireDiscover()
    discover.deviceID = "d1"
    discover.protocolMin = 1
    discover.protocolMax = 1
    var address = WireServerAddress()
    address.serverID = "s1"
    address.endpoints = ["wss://127.0.0.1:7443/v1/session"]
    address.challenge = Data([1, 2, 3])
    var auth = WireAuthenticate()
    auth.deviceID = "d1"
    auth.signature = Data(repeating: 7, count: 64)
    var result = WireAuthResult()
    result.accepted = true
    result.inventoryVersion = 42
    var position = WirePosition()
    position.lat = 35.68
    position.lon = 139.76
    position.accuracyM = 12
    var inventory = WireInventory()
    inventory.full = true
    var section = WireInventorySection()
    section.name = "os"
    var item = WireInventoryItem()
    item.key = "hostname"
    item.value = "t1"
    section.items = [item]
    inventory.sections = [section]
    var offer = WireDelivery()
    var offerItem = WireOfferItem()
    offerItem.itemID = "p1"
    offerItem.size = 10
    offer.offer.items = [offerItem]
    var chunk = WireDelivery()
    chunk.chunk.itemID = "p1"
    chunk.chunk.data = Data([9, 9, 9])
    var status = WireDeliveryStatus()
    var progress = WireItemProgress()
    progress.itemID = "p1"
    progress.received = 3
    status.items = [progress]
    var end = WireEnd()
    end.reason = .rejectDelivery
    var instruction = WireCollectInstruction()
    var order = WireCollectOrder()
    order.orderID = "o1"
    order.paths = ["/var/log/*.log"]
    instruction.orders = [order]
    var data = WireCollectedData()
    data.file.path = "/var/log/a.log"
    var collection = WireCollectionStatus()
    collection.received = 5
    var error = WireError()
    error.reason = .outOfSequence
    error.message = "no"
    return [
        .discover(discover), .serverAddress(address), .authenticate(auth), .authResult(result),
        .position(position), .positionRequest(WirePositionRequest()), .inventory(inventory),
        .delivery(offer), .delivery(chunk), .deliveryStatus(status), .end(end), .endAck(WireEndAck()),
        .deliveryFinished(WireDeliveryFinished()), .collectInstruction(instruction), .collectedData(data),
        .collectionStatus(collection), .terminalError(error), .serverError(error),
    ]
}

@Suite struct TelexCodecTests {
    let codec = TelexCodec()

    @Test func everyTelexRoundTrips() throws {
        let samples = sampleTelexes()
        #expect(Set(samples.map(\.code)) == Set(TelexCode.allCases))
        for telex in samples {
            let frame = try codec.encode(telex)
            #expect(TelexCodec.peekCode(frame) == telex.code.rawValue)
            #expect(try codec.decode(frame) == telex)
        }
    }

    @Test func codeIsOnTheWireBigEndian() throws {
        let frame = try codec.encode(.serverError(WireError()))
        #expect(Array(frame.prefix(2)) == [0x04, 0x42])  // 1090
    }

    @Test func truncatedFrameIsTyped() {
        #expect(throws: TelexError(.truncated, "frame of 1 bytes is shorter than the 2-byte telex code")) {
            try codec.decode([0])
        }
    }

    @Test func truncatedBodyIsTyped() throws {
        let frame = try codec.encode(sampleTelexes()[1])
        let error = #expect(throws: TelexError.self) { try codec.decode(Array(frame.dropLast(2))) }
        #expect(error?.reason == .truncated)
        #expect(error?.code == 1010)
    }

    @Test func malformedBodyIsTyped() {
        // Field 1 with wire type 7 does not exist in protobuf.
        let error = #expect(throws: TelexError.self) { try codec.decode([0, 10, 0x0f, 0xff]) }
        #expect(error?.reason == .malformed)
    }

    @Test func unknownCodeIsTypedWithTheCode() {
        let error = #expect(throws: TelexError.self) { try codec.decode([0x03, 0xe7]) }  // 999
        #expect(error?.reason == .unknownCode)
        #expect(error?.code == 999)
    }

    @Test func oversizedIsRefusedOnBothSides() throws {
        let small = TelexCodec(maxFrameSize: 64)
        var chunk = WireDelivery()
        chunk.chunk.data = Data(repeating: 1, count: 100)
        let encodeError = #expect(throws: TelexError.self) { try small.encode(.delivery(chunk)) }
        #expect(encodeError?.reason == .oversized)
        let frame = try codec.encode(.delivery(chunk))
        let decodeError = #expect(throws: TelexError.self) { try small.decode(frame) }
        #expect(decodeError?.reason == .oversized)
        #expect(decodeError?.code == 1030)
    }

    @Test func defaultLimitIsFourMiB() {
        #expect(TelexCodec().maxFrameSize == 4 * 1024 * 1024)
    }
}
