import FluentKit
import Foundation
import PiggybackProtocol

/// Which inventory sections each terminal is asked for in 1020, set per device, per label
/// or fleet-wide; and the device labels that the label scope matches.
///
/// The most specific setting wins: the device's own, else the union of those of its
/// labels, else the fleet's, else everything.
struct InventoryRequests: Sendable {
    let store: ServerStore

    /// Where a setting applies.
    enum Scope: Equatable, CustomStringConvertible {
        case fleet
        case device(String)
        case label(key: String, value: String)

        /// Parses `fleet`, `device:ID` or `label:KEY=VALUE`.
        init(parsing text: String) throws {
            if text == "fleet" {
                self = .fleet
            } else if text.hasPrefix("device:"), text.count > 7 {
                self = .device(String(text.dropFirst(7)))
            } else if text.hasPrefix("label:"), let (key, value) = try? Self.label(String(text.dropFirst(6))) {
                self = .label(key: key, value: value)
            } else {
                throw AdminError(.badRequest, "invalid", "scope must be fleet, device:ID or label:KEY=VALUE, not \(text)")
            }
        }

        var description: String {
            switch self {
            case .fleet: "fleet"
            case .device(let id): "device:\(id)"
            case .label(let key, let value): "label:\(key)=\(value)"
            }
        }

        /// Splits and checks `KEY=VALUE`.
        static func label(_ text: String) throws -> (String, String) {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, InventoryRequests.isName(parts[0]), parts[1].count <= 200 else {
                throw AdminError(.badRequest, "invalid", "a label is KEY=VALUE with KEY of letters, digits, _ . - (got \(text))")
            }
            return (parts[0], parts[1])
        }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }
    }

    /// The 1020 request for a device.
    func resolve(deviceID: String) async throws -> WireInventoryRequest {
        let settings = Dictionary(try await InventoryRequestRecord.query(on: store.db).all().map { ($0.id ?? "", $0.sections) }, uniquingKeysWith: { a, _ in a })
        var request = WireInventoryRequest()
        request.all = true
        func apply(_ sections: String) {
            let names = sections.split(separator: ",").map(String.init)
            request.all = names.isEmpty
            request.sections = names
        }
        if let own = settings[Scope.device(deviceID).description] {
            apply(own)
        } else {
            let labels = try await labels(deviceID: deviceID)
            let matching = labels.compactMap { settings[Scope.label(key: $0.key, value: $0.value).description] }
            if !matching.isEmpty {
                apply(matching.contains("") ? "" : Set(matching.flatMap { $0.split(separator: ",").map(String.init) }).sorted().joined(separator: ","))
            } else if let fleet = settings[Scope.fleet.description] {
                apply(fleet)
            }
        }
        return request
    }

    /// Sets (or with nil, removes) the sections asked for in `scope`; empty asks for all.
    func set(scope: Scope, sections: [String]?) async throws {
        try await InventoryRequestRecord.query(on: store.db).filter(\.$id == scope.description).delete()
        guard let sections else { return }
        guard sections.count <= 64, sections.allSatisfy(Self.isName) else {
            throw AdminError(.badRequest, "invalid", "sections are names of letters, digits, _ . - (at most 64)")
        }
        try await InventoryRequestRecord(scope: scope.description, sections: Array(Set(sections)).sorted()).create(on: store.db)
    }

    /// Every setting: scope → sections (empty: all).
    func list() async throws -> [(scope: String, sections: [String])] {
        try await InventoryRequestRecord.query(on: store.db).sort(\.$id).all().map {
            ($0.id ?? "", $0.sections.split(separator: ",").map(String.init))
        }
    }

    /// A device's labels.
    func labels(deviceID: String) async throws -> [String: String] {
        Dictionary(try await DeviceLabelRecord.query(on: store.db).filter(\.$deviceID == deviceID).all().map { ($0.key, $0.value) },
                   uniquingKeysWith: { a, _ in a })
    }

    /// Sets labels (a nil value removes the label).
    func setLabels(deviceID: String, _ changes: [String: String?]) async throws {
        for (key, value) in changes {
            _ = try Scope.label("\(key)=\(value ?? "")")
        }
        try await store.db.transaction { db in
            for (key, value) in changes {
                try await DeviceLabelRecord.query(on: db).filter(\.$deviceID == deviceID).filter(\.$key == key).delete()
                if let value { try await DeviceLabelRecord(deviceID: deviceID, key: key, value: value).create(on: db) }
            }
        }
    }
}

extension WireInventoryRequest {
    /// The requested sections as the admin API shows them (empty: all).
    var json: [String] { all ? [] : sections }
}
