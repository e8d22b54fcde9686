import Foundation

/// A real `redis-server` from Debian's package on a free loopback port, keeping nothing on disk; killed by
/// ``stop()`` or deinit.
///
/// ```swift
/// let redis = try RedisFixture()
/// defer { redis.stop() }
/// connect(to: "redis://127.0.0.1:\(redis.port)")
/// ```
public final class RedisFixture: @unchecked Sendable {
    public let port: Int
    private let process = Process()
    private let deadline: ProcessDeadline

    /// Starts the server and waits, at most 30 s, until it accepts connections.
    public init() throws {
        // Redis takes a port number, not 0: one the system just handed out and let go of is free.
        let probe = try LoopbackListener(listening: false)
        port = probe.port
        close(probe.descriptor)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        deadline = ProcessDeadline(process, after: .seconds(600))
        let started = ContinuousClock.now
        while true {
            if let socket = LoopbackSocket.connect(port: port) {
                close(socket)
                return
            }
            guard process.isRunning, ContinuousClock.now - started < .seconds(30) else {
                stop()
                throw FixtureFailure("redis-server did not listen on 127.0.0.1:\(port) within 30 s")
            }
            usleep(20_000)
        }
    }

    deinit { stop() }

    /// SIGKILL, not SIGTERM: the child inherits the test process's signal mask, which may block SIGTERM; and this
    /// Redis keeps nothing on disk. Later calls do nothing.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        deadline.cancel()
    }
}
