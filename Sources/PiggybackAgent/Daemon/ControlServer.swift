import Foundation
import Logging
import NIOCore
import NIOPosix

/// The daemon's control socket (`DATA/control.sock`, mode 0600): one request line per
/// connection — `trigger` asks for a session now, `status` returns the status as JSON,
/// `consent` shows the open question about offered downloads and `consent accept|defer [ID]`
/// answers it — and one answer, then close. Only the agent's own user (or root) can connect.
public struct ControlServer: Sendable {
    /// The commands the daemon answers itself.
    public enum Command: String, Sendable {
        case trigger
        case status
    }

    /// One parsed request line.
    public enum Request: Sendable, Equatable {
        /// A command for the daemon's handler.
        case command(Command)
        /// A consent request, answered by the ``ConsentBroker``.
        case consent(ConsentRequest)

        /// Parses a request line (without its newline); nil when it is none of the above.
        public init?(line: String) {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard let verb = words.first else { return nil }
            if words.count == 1, let command = Command(rawValue: String(verb)) {
                self = .command(command)
            } else if verb == "consent", let request = ConsentRequest(arguments: Array(words.dropFirst())) {
                self = .consent(request)
            } else {
                return nil
            }
        }

        /// The request line, without its newline.
        public var line: String {
            switch self {
            case .command(let command): command.rawValue
            case .consent(let request): (["consent"] + request.arguments).joined(separator: " ")
            }
        }
    }

    let path: String
    let logger: Logger
    let consent: ConsentBroker?
    let handle: @Sendable (Command) async -> String

    /// Serves on `path`; `handle` answers each command, `consent` (when given) the consent
    /// requests — without it they answer that this daemon asks no questions.
    public init(path: String, logger: Logger, consent: ConsentBroker? = nil, handle: @escaping @Sendable (Command) async -> String) {
        self.path = path
        self.logger = logger
        self.consent = consent
        self.handle = handle
    }

    /// Longest request line accepted.
    static let maxRequest = 256

    /// Binds and serves until cancelled; removes the socket file on the way out.
    public func run() async throws {
        // Bound inside a private directory, made 0600 there and only then moved into place, so
        // nobody else can connect in between. (Not with umask: it is the whole process's, and
        // files created meanwhile by other threads, such as a package being unpacked, would
        // get the socket's mode.)
        let staging = path + ".d"
        let bound = staging + "/s"
        unlink(bound)
        rmdir(staging)
        guard mkdir(staging, 0o700) == 0 else {
            throw AgentError(.storage, "cannot create \(staging) for the control socket: \(String(cString: strerror(errno)))")
        }
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(unixDomainSocketPath: bound, cleanupExistingSocketFile: true) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            rmdir(staging)
            throw AgentError(.storage, "cannot open the control socket \(path): \(error)")
        }
        guard chmod(bound, 0o600) == 0, rename(bound, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(bound)
            rmdir(staging)
            try? await server.channel.close()
            throw AgentError(.storage, "cannot put the control socket in place at \(path): \(reason)")
        }
        rmdir(staging)
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
                switch Request(line: text) {
                case .command(let command):
                    answer = await handle(command)
                case .consent(let request):
                    if let consent {
                        answer = await consent.controlAnswer(to: request)
                    } else {
                        answer = "error: this agent daemon asks no questions about downloads (its consent policy is not ask)"
                    }
                case nil:
                    answer = "error: unknown command \"\(text.prefix(40))\"; use trigger, status, consent, consent accept [ID] or consent defer [ID]"
                }
                try await outbound.write(ByteBuffer(string: answer + "\n"))
            }
        } catch {
            logger.debug("control connection failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Sends one request to a running daemon's control socket and returns its answer.
public enum ControlClient {
    /// Sends a command (`trigger`, `status`).
    public static func send(_ command: ControlServer.Command, path: String) async throws -> String {
        try await send(.command(command), path: path)
    }

    /// Sends any request; throws ``AgentError`` (`.unreachable`) when no daemon answers.
    public static func send(_ request: ControlServer.Request, path: String) async throws -> String {
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
            try await outbound.write(ByteBuffer(string: request.line + "\n"))
            var answer: [UInt8] = []
            for try await buffer in inbound {
                answer += buffer.readableBytesView
                if answer.count > 1 << 20 { break }
            }
            return String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .newlines)
        }
    }
}
