import AgnostTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

@Suite(.timeLimit(.minutes(1)))
struct CuttingProxyTests {
    private static let oneMebibyte = uploadBytes(1 << 20)
    private static let oneMebibyteReceived = Received(bytes: oneMebibyte)

    @Test func relaysAnUploadAndItsReplyInFull() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port)
        defer { proxy.stop() }

        let outcome = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(outcome.sentEverything)
        #expect(outcome.reply == Self.oneMebibyteReceived.reply)
        #expect(upstream.received == [Self.oneMebibyteReceived])
        #expect(proxy.forwardedToUpstream == Int64(Self.oneMebibyte.count))
        #expect(proxy.cuts == 0)
        #expect(proxy.connections == 1)
    }

    @Test func cutsTheUploadThatPassesTheLimitAndRelaysLaterOnesInFull() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port, cutAfter: 300_000)
        defer { proxy.stop() }

        let cut = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(cut.reply == nil)
        #expect(proxy.cuts == 1)
        try upstream.waitUntilFinished(connections: 1)
        #expect(upstream.received == [Received(bytes: Self.oneMebibyte.prefix(300_000))])

        let retry = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(retry.sentEverything)
        #expect(retry.reply == Self.oneMebibyteReceived.reply)
        #expect(upstream.received.last == Self.oneMebibyteReceived)
        #expect(proxy.forwardedToUpstream == Int64(300_000 + Self.oneMebibyte.count))
        #expect(proxy.cuts == 1)
        #expect(proxy.connections == 2)
    }

    @Test func countsTheLimitOverAllConnections() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port, cutAfter: Int64(Self.oneMebibyte.count + 1000))
        defer { proxy.stop() }

        let first = try upload(Self.oneMebibyte, throughPort: proxy.port)
        let second = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(first.reply == Self.oneMebibyteReceived.reply)
        #expect(second.reply == nil)
        try upstream.waitUntilFinished(connections: 2)
        #expect(upstream.received == [Self.oneMebibyteReceived, Received(bytes: Self.oneMebibyte.prefix(1000))])
        #expect(proxy.forwardedToUpstream == Int64(Self.oneMebibyte.count + 1000))
        #expect(proxy.cuts == 1)
    }

    @Test func cutsTheReplyToTheUploadThatReachesTheLimitAfterItsFirstByte() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port, cutReplyAfter: 300_000)
        defer { proxy.stop() }

        let cut = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(cut.sentEverything)
        #expect(cut.replyBytes == Array(Self.oneMebibyteReceived.reply.utf8.prefix(1)))
        #expect(cut.reply != Self.oneMebibyteReceived.reply)
        #expect(proxy.cuts == 1)
        try upstream.waitUntilFinished(connections: 1)
        #expect(upstream.received == [Self.oneMebibyteReceived])

        let next = try upload(Self.oneMebibyte, throughPort: proxy.port)

        #expect(next.sentEverything)
        #expect(next.reply == Self.oneMebibyteReceived.reply)
        #expect(upstream.received == [Self.oneMebibyteReceived, Self.oneMebibyteReceived])
        #expect(proxy.forwardedToUpstream == Int64(2 * Self.oneMebibyte.count))
        #expect(proxy.cuts == 1)
        #expect(proxy.connections == 2)
    }

    @Test func leavesRepliesAloneUntilTheLimitIsReachedOverAllConnections() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port, cutReplyAfter: 300_000)
        defer { proxy.stop() }
        let below = Received(bytes: Self.oneMebibyte.prefix(100_000))
        let across = Received(bytes: Self.oneMebibyte.prefix(300_000))

        let first = try upload(Array(Self.oneMebibyte.prefix(100_000)), throughPort: proxy.port)

        #expect(first.reply == below.reply)
        #expect(proxy.cuts == 0)

        let second = try upload(Array(Self.oneMebibyte.prefix(300_000)), throughPort: proxy.port)

        #expect(second.sentEverything)
        #expect(second.replyBytes == Array(across.reply.utf8.prefix(1)))
        #expect(proxy.cuts == 1)
        try upstream.waitUntilFinished(connections: 2)
        #expect(upstream.received == [below, across])
        #expect(proxy.forwardedToUpstream == 400_000)
    }

    @Test func stopEndsOpenConnectionsAndClosesThePort() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        let proxy = try CuttingProxy(upstreamPort: upstream.port)
        let idleClient = try connectToLoopback(port: proxy.port)
        defer { close(idleClient) }
        try waitUntil { proxy.connections == 1 }

        let started = ContinuousClock.now
        proxy.stop()
        proxy.stop()

        #expect(ContinuousClock.now - started < .seconds(2))
        var byte: UInt8 = 0
        #expect(recv(idleClient, &byte, 1, 0) == 0)
        #expect(throws: SocketFailure(call: "connect", code: ECONNREFUSED)) {
            close(try connectToLoopback(port: proxy.port))
        }
    }

    @Test func droppingTheLastReferenceStopsTheProxy() throws {
        let upstream = try CountingUpstream()
        defer { upstream.stop() }
        var proxy: CuttingProxy? = try CuttingProxy(upstreamPort: upstream.port)
        let port = try #require(proxy?.port)

        proxy = nil

        #expect(throws: SocketFailure(call: "connect", code: ECONNREFUSED)) {
            close(try connectToLoopback(port: port))
        }
    }
}

/// Bytes that differ from position to position, so that lost, repeated or reordered chunks change the digest.
private func uploadBytes(_ count: Int) -> [UInt8] {
    var state: UInt32 = 0x9E37_79B9
    return (0..<count).map { _ in
        state = state &* 1_664_525 &+ 1_013_904_223
        return UInt8(truncatingIfNeeded: state >> 24)
    }
}

/// What the upstream got on one connection: how many bytes and an FNV-1a digest of them.
private struct Received: Equatable {
    var count = 0
    var digest: UInt64 = 0xCBF2_9CE4_8422_2325

    init() {}

    init<Bytes: Sequence<UInt8>>(bytes: Bytes) {
        add(bytes)
    }

    mutating func add<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        for byte in bytes {
            count += 1
            digest = (digest ^ UInt64(byte)) &* 0x100_0000_01B3
        }
    }

    var reply: String { "\(count) \(digest)" }
}

private struct UploadOutcome {
    var sentEverything: Bool
    /// What came back after the upload; `nil` when the connection failed or ended without an answer.
    var reply: String?
    /// Every byte that came back before the connection ended, whether it ended cleanly or failed, so that a test can
    /// see how much of a cut reply got through.
    var replyBytes: [UInt8] = []
}

/// Sends `bytes`, half-closes to say the upload is complete and reads the answer.
private func upload(_ bytes: [UInt8], throughPort port: Int) throws -> UploadOutcome {
    let client = try connectToLoopback(port: port)
    defer { close(client) }
    let sentEverything = bytes.withUnsafeBytes { LoopbackSocket.sendAll($0, to: client) }
    guard sentEverything else { return UploadOutcome(sentEverything: false, reply: nil) }
    shutdown(client, Int32(SHUT_WR))
    let (replyBytes, endedCleanly) = receiveUntilEnd(from: client)
    let reply = endedCleanly && !replyBytes.isEmpty ? String(decoding: replyBytes, as: UTF8.self) : nil
    return UploadOutcome(sentEverything: true, reply: reply, replyBytes: replyBytes)
}

/// A server that reads what a client sends until the client half-closes, then answers with what it got, the way a
/// server acknowledges an upload.
private final class CountingUpstream: Sendable {
    let port: Int
    private let listener: Int32
    private let finished = Mutex<[Received]>([])
    private let runningThreads = DispatchGroup()

    init() throws {
        (listener, port) = try listenOnLoopback()
        runningThreads.enter()
        Thread { [self] in
            acceptClients()
            runningThreads.leave()
        }
        .start()
    }

    /// One entry per finished connection, in the order they finished.
    var received: [Received] { finished.withLock { $0 } }

    func waitUntilFinished(connections: Int) throws {
        try waitUntil { received.count >= connections }
    }

    func stop() {
        // On Linux, shutting down a listening socket wakes a thread blocked in accept.
        shutdown(listener, Int32(SHUT_RDWR))
        runningThreads.wait()
        close(listener)
    }

    private func acceptClients() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                guard errno == EINTR else { return }
                continue
            }
            setTimeouts(client)
            runningThreads.enter()
            Thread { [self] in
                answer(client)
                runningThreads.leave()
            }
            .start()
        }
    }

    private func answer(_ client: Int32) {
        defer { close(client) }
        var received = Received()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(client, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            received.add(buffer[..<count])
        }
        finished.withLock { $0.append(received) }
        _ = Array(received.reply.utf8).withUnsafeBytes { LoopbackSocket.sendAll($0, to: client) }
    }
}

private struct SocketFailure: Error, Equatable {
    var call: String
    var code: Int32

    init(call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }
}

private func listenOnLoopback() throws -> (descriptor: Int32, port: Int) {
    let listener = try LoopbackListener()
    return (listener.descriptor, listener.port)
}

private func connectToLoopback(port: Int) throws(SocketFailure) -> Int32 {
    guard let descriptor = LoopbackSocket.connect(port: port) else { throw SocketFailure(call: "connect") }
    setTimeouts(descriptor)
    return descriptor
}

/// Turns a proxy that never answers or never closes into a failed test rather than a hung one.
private func setTimeouts(_ descriptor: Int32) {
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
        setsockopt(descriptor, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// Reads until the peer closes or the connection fails, for example when it is reset, and tells which of the two
/// happened.
private func receiveUntilEnd(from descriptor: Int32) -> (bytes: [UInt8], endedCleanly: Bool) {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count < 0 && errno == EINTR { continue }
        guard count >= 0 else { return (bytes, false) }
        guard count > 0 else { return (bytes, true) }
        bytes += buffer[..<count]
    }
}

private struct TimedOut: Error {}

private func waitUntil(_ condition: () -> Bool) throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut() }
        Thread.sleep(forTimeInterval: 0.01)
    }
}
