import NIOCore
import NIOPosix

/// A TCP port on 127.0.0.1 that was free a moment ago, for programs (gpsd) that must be
/// told their port: bound with port 0 so the kernel chooses, then closed again.
///
/// Another process may take it before it is used; tests on a busy machine retry or fail loudly.
public func freePort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .bind(host: "127.0.0.1", port: 0)
        .get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    guard port > 0 else { throw GPSFakeError("the kernel gave no port for 127.0.0.1:0") }
    return port
}
