import NIOCore
import NIOPosix
import Synchronization

/// A TCP listener on loopback that plays a script to each connection: what a misbehaving
/// gpsd (or something else on its port) would send. Real gpsd is used where it can be.
final class PositionTestPeer: Sendable {
    let channel: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    let task: Task<Void, Never>
    /// The first line each connection sent (the agent's `?WATCH`).
    final class Requests: Sendable {
        let lines = Mutex<[String]>([])
    }

    let requests = Requests()

    var port: Int { channel.channel.localAddress?.port ?? 0 }

    /// Listens on 127.0.0.1 (`port` 0: any free port); connection n gets `replies[n]`
    /// (the last entry repeats), written once the client's first line arrived, then closed.
    init(port: Int = 0, replies: [[ByteBuffer]]) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        let channel = self.channel
        let requests = self.requests
        task = Task {
            var index = 0
            try? await channel.executeThenClose { inbound in
                for try await connection in inbound {
                    let reply = replies[min(index, replies.count - 1)]
                    index += 1
                    try? await connection.executeThenClose { input, output in
                        var received = ByteBuffer()
                        for try await var chunk in input {
                            received.writeBuffer(&chunk)
                            if received.readableBytesView.contains(UInt8(ascii: "\n")) { break }
                        }
                        requests.lines.withLock { $0.append(String(buffer: received)) }
                        for buffer in reply { try await output.write(buffer) }
                    }
                }
            }
        }
    }

    func close() async {
        try? await channel.channel.close()
        task.cancel()
        await task.value
    }
}
