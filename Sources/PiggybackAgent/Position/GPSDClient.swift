import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A small client for gpsd's JSON protocol: connects over TCP, asks for reports
/// (`?WATCH={"enable":true,"json":true}`) and keeps the latest 2D/3D fix.
///
/// It runs as a `Service` for the agent's lifetime: when gpsd is down or misbehaves it
/// reconnects with exponential backoff; a malformed line is skipped, an overlong one ends
/// the connection. Reading the fix never waits for the network.
public final class GPSDClient: Service, Sendable {
    /// What the client knows now, for `status` and tests.
    public struct Status: Sendable, Equatable {
        /// The latest 2D/3D fix, however old.
        public var fix: PositionFix?
        /// True while a connection to gpsd is open.
        public var connected = false
        /// gpsd's release, from its greeting.
        public var gpsdRelease: String?
        /// The devices gpsd reported, by path.
        public var devices: [String] = []
        /// Satellites used in the latest solution (SKY).
        public var satellitesUsed: Int?
        /// Connections made since start.
        public var connections = 0
        /// Lines skipped because they were not reports.
        public var malformedLines = 0
        /// Why the last connection ended or failed.
        public var lastError: String?
    }

    /// Where gpsd is and the protocol bounds.
    public let configuration: GPSDClientConfiguration
    let logger: Logger
    let state = Mutex(Status())

    /// Creates a client; it connects when `run()` starts.
    public init(configuration: GPSDClientConfiguration = GPSDClientConfiguration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The latest 2D/3D fix, or nil when gpsd has never reported one.
    public var latestFix: PositionFix? { state.withLock { $0.fix } }

    /// A snapshot of the connection and the latest fix.
    public var status: Status { state.withLock { $0 } }

    /// Connects, reads, and reconnects with backoff until cancelled or shut down gracefully.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var backoff = self.configuration.initialBackoff
            var failures = 0
            while !Task.isCancelled {
                let lines = await self.connectAndRead(quiet: failures > 0)
                if lines > 0 {
                    backoff = self.configuration.initialBackoff
                    failures = 0
                } else {
                    failures += 1
                }
                let wait = backoff * Double.random(in: 0.5...1.0)
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return
                }
                backoff = min(backoff * 2, self.configuration.maxBackoff)
            }
        }
    }

    /// One connection: returns the number of lines read before it ended. Logs why it ended
    /// at info level, or at debug when `quiet` (gpsd still down after the first report).
    func connectAndRead(quiet: Bool) async -> Int {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(configuration.connectTimeout))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(GPSDLineDecoder(maxLineBytes: self.configuration.maxLineBytes))
                        )
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            record("cannot connect: \(error)", level: quiet ? .debug : .info)
            return 0
        }
        // Our own connection: when it ends, the monitor must not take that for the user's traffic.
        if let port = channel.channel.localAddress?.port, let local = UInt16(exactly: port) {
            OwnTraffic.process.register(.tcp, localPort: local)
        }
        state.withLock {
            $0.connected = true
            $0.connections += 1
        }
        defer { state.withLock { $0.connected = false } }
        logger.debug("gpsd: connected", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"])
        var lines = 0
        do {
            let decoder = JSONDecoder()
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "?WATCH={\"enable\":true,\"json\":true}\n"))
                for try await line in inbound {
                    lines += 1
                    handle(line, decoder: decoder)
                }
            }
            if Task.isCancelled {
                record("stopped", level: .debug)
            } else {
                record("gpsd closed the connection", level: quiet && lines == 0 ? .debug : .info)
            }
        } catch {
            record("\(error)", level: quiet && lines == 0 ? .debug : .info)
        }
        return lines
    }

    /// Keeps the reason for `status` and logs it; the client retries with backoff either way.
    func record(_ reason: String, level: Logger.Level) {
        state.withLock { $0.lastError = reason }
        logger.log(level: level, "gpsd: no connection, retrying with backoff", metadata: [
            "host": "\(configuration.host)", "port": "\(configuration.port)", "reason": "\(reason)",
        ])
    }

    /// Applies one line to the state; never throws, whatever the line holds.
    func handle(_ line: ByteBuffer, decoder: JSONDecoder) {
        let bytes = line.readableBytesView
        guard bytes.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) else { return }
        let message: GPSDMessage
        do {
            message = try GPSDMessage.parse(bytes, decoder: decoder)
        } catch {
            state.withLock { $0.malformedLines += 1 }
            logger.debug("gpsd: skipped a line", metadata: ["error": "\(error)"])
            return
        }
        apply(message)
    }

    /// Updates the state from one report.
    func apply(_ message: GPSDMessage) {
        switch message {
        case .version(let release, let major):
            state.withLock { $0.gpsdRelease = release }
            logger.debug("gpsd: greeting", metadata: ["release": "\(release)", "protocol": "\(major)"])
        case .devices(let paths):
            state.withLock { $0.devices = paths }
            if paths.isEmpty { logger.info("gpsd: no GPS device attached") }
        case .watch(let enabled):
            if !enabled { logger.warning("gpsd: watch not enabled; no position reports will come") }
        case .tpv(let tpv):
            guard let fix = tpv.fix(defaults: configuration) else { return }
            state.withLock { $0.fix = fix }
        case .sky(let sky):
            if let used = sky.satellitesUsed { state.withLock { $0.satellitesUsed = used } }
        case .error(let text):
            logger.warning("gpsd: error report", metadata: ["message": "\(text)"])
        case .other:
            break
        }
    }
}
