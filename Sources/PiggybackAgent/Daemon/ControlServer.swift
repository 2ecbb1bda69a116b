import Foundation
import Logging
import NIOCore
import NIOPosix

/// The daemon's control socket (`DATA/control.sock`, mode 0600): one request line per
/// connection — `trigger` asks for a session now, `status` returns the status as JSON —
/// and one answer, then close. Only the agent's own user (or root) can connect.
public struct ControlServer: Sendable {
    /// The commands a client may send.
    public enum Command: String, Sendable {
        case trigger
        case status
    }

    let path: String
    let logger: Logger
    let handle: @Sendable (Command) async -> String

    /// Serves on `path`; `handle` answers each command.
    public init(path: String, logger: Logger, handle: @escaping @Sendable (Command) async -> String) {
        self.path = path
        self.logger = logger
        self.handle = handle
    }

    /// Longest request line accepted.
    static let maxRequest = 256

    /// Binds and serves until cancelled; removes the socket file on the way out.
    public func run() async throws {
        let previous = umask(0o077)
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            umask(previous)
        } catch {
            umask(previous)
            throw AgentError(.storage, "cannot open the control socket \(path): \(error)")
        }
        chmod(path, 0o600)
        defer { unlink(path) }
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var line: [UInt8] = []
                for try await buffer in inbound {
                    line += buffer.readableBytesView
                    if line.contains(0x0A) || line.count > Self.maxRequest { break }
                }
                let text = String(decoding: line.prefix { $0 != 0x0A }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                let answer: String
                if let command = Command(rawValue: text) {
                    answer = await handle(command)
                } else {
                    answer = "error: unknown command \"\(text.prefix(40))\"; use trigger or status"
                }
                try await outbound.write(ByteBuffer(string: answer + "\n"))
            }
        } catch {
            logger.debug("control connection failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Sends one command to a running daemon's control socket and returns its answer.
public enum ControlClient {
    public static func send(_ command: ControlServer.Command, path: String) async throws -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw AgentError(.unreachable, "no agent daemon is running here (no \(path)); start `piggyback agent --data DIR`")
        }
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AgentError(.unreachable, "cannot reach the agent daemon at \(path): \(error) (is it running, and are you its user or root?)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: command.rawValue + "\n"))
            var answer: [UInt8] = []
            for try await buffer in inbound {
                answer += buffer.readableBytesView
                if answer.count > 1 << 20 { break }
            }
            return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
    }
}
