import Foundation

extension Agent {
    /// Collects the inventory now and records it in the local registry (no server needed):
    /// what the resident agent does at start and on its timer while offline.
    @discardableResult
    public func recordInventory() async throws -> InventoryRecorder.Outcome {
        try await withRegistry { registry in
            try await InventoryRecorder(registry: registry, root: configuration.inventoryRoot, policy: configuration.changePolicy).record()
        }
    }

    /// The local inventory change log, newest first.
    public func localInventoryChanges(limit: Int = 100) async throws -> [AgentRegistry.LocalChange] {
        try await withRegistry { try await $0.localChanges(limit: limit) }
    }

    /// Opens the registry (creating the data directory), runs `body`, closes it.
    func withRegistry<T: Sendable>(_ body: (AgentRegistry) async throws -> T) async throws -> T {
        let directory = configuration.dataDirectory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw AgentError(.storage, "cannot create the data directory \(directory.path): \(error)")
        }
        let registry = try await AgentRegistry.open(directory: directory, logger: logger)
        do {
            let result = try await body(registry)
            await registry.close()
            return result
        } catch {
            await registry.close()
            throw error
        }
    }
}
