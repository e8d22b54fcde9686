import Foundation
import Glibc
import Synchronization

/// A TCP proxy on a free loopback port in front of `127.0.0.1:upstreamPort` that can cut one connection after a
/// given number of bytes from clients, the way a flaky network drops an upload, and one connection just as its reply
/// begins, the way a flaky network drops an answer.
///
/// Bytes from clients are counted over all connections together, so a retry that opens a new connection continues
/// the count rather than starting again. Once the total would pass `cutAfter`, the proxy relays exactly up to
/// `cutAfter` bytes and then drops that connection in both directions; the client sees its connection reset
/// mid-request and the upstream sees the client vanish mid-body. It cuts only once: everything afterwards is relayed
/// untouched, which lets a test check that a client recovers.
///
/// `cutReplyAfter` cuts later in the exchange. The connection whose client bytes take the same total to
/// `cutReplyAfter` or beyond keeps relaying its request in full; once the upstream starts answering on it, the proxy
/// relays the answer's first line (one byte if its first piece has no line end) and then drops the connection. The upstream has thus acted on the whole request
/// while the client holds only the start of a reply. Unlike a cut upload, that is not something a client may simply
/// send again, since the server may already have done what was asked; it has to ask the server where things stand.
/// This cut, too, happens only once.
///
/// `stallAfter` makes the network hang instead: once clients have sent that many bytes, the proxy relays no more
/// of them and holds every connection open, so a client waits in the middle of its upload until it gives up or is
/// stopped.
///
/// ```swift
/// let proxy = try CuttingProxy(upstreamPort: registry.port, cutAfter: 300_000)
/// defer { proxy.stop() }
/// try await client.upload(blob, to: "http://127.0.0.1:\(proxy.port)")  // retries after the cut
/// #expect(proxy.cuts == 1)
/// #expect(proxy.connections == 2)
/// ```
public final class CuttingProxy: Sendable {
    /// The loopback port clients connect to.
    public let port: Int
    private let relay: Relay

    /// Starts listening on `127.0.0.1` on a port the system picks and relays every connection to
    /// `127.0.0.1:upstreamPort`.
    ///
    /// - Parameters:
    ///   - upstreamPort: the loopback port of the server behind the proxy.
    ///   - cutAfter: how many client bytes, over all connections, to relay before cutting the connection that
    ///     carries the next one; `nil` never cuts. Must not be negative.
    ///   - stallAfter: how many client bytes, over all connections, to relay before relaying none and answering
    ///     nothing; `nil` never stalls. Must not be negative.
    ///   - cutReplyAfter: the total of client bytes, over all connections and counted like `cutAfter`, whose
    ///     connection gets cut after the first line of its reply. The read from the client that reaches it is relayed
    ///     whole, so the upstream gets the entire request. Only the first connection to reach it is marked; should
    ///     that connection end before the upstream answers, for instance because `cutAfter` cuts it, no reply is
    ///     cut. `nil` never cuts a reply. Must not be negative.
    ///   - uploadBytesPerSecond: the most client bytes each connection relays per second, as a slow uplink
    ///     would; `nil` relays as fast as the sockets go. Must be positive.
    /// - Throws: `LoopbackSocketError` when the listening socket cannot be set up.
    public init(
        upstreamPort: Int,
        cutAfter: Int64? = nil,
        cutReplyAfter: Int64? = nil,
        stallAfter: Int64? = nil,
        uploadBytesPerSecond: Int64? = nil
    ) throws {
        precondition((uploadBytesPerSecond ?? 1) > 0, "uploadBytesPerSecond must be positive")
        precondition((cutAfter ?? 0) >= 0, "cutAfter must not be negative")
        precondition((cutReplyAfter ?? 0) >= 0, "cutReplyAfter must not be negative")
        precondition((stallAfter ?? 0) >= 0, "stallAfter must not be negative")
        let listener = try LoopbackListener()
        port = listener.port
        relay = Relay(
            upstreamPort: upstreamPort,
            cutAfter: cutAfter,
            cutReplyAfter: cutReplyAfter,
            stallAfter: stallAfter,
            uploadBytesPerSecond: uploadBytesPerSecond
        )
        relay.start(acceptingOn: listener.descriptor)
    }

    deinit {
        stop()
    }

    /// How many connections the proxy has cut, counting both kinds of cut: at most 1 for each of `cutAfter` and
    /// `cutReplyAfter` that was given.
    public var cuts: Int { relay.state.withLock { $0.cuts } }

    /// Client bytes the upstream has been sent, over all connections.
    public var forwardedToUpstream: Int64 { relay.state.withLock { $0.forwardedToUpstream } }

    /// Client connections accepted so far, including any that the upstream refused.
    public var connections: Int { relay.state.withLock { $0.connections } }

    /// Stops accepting, closes every open connection and waits until all of the proxy's threads have ended, so the
    /// port refuses connections once this returns. Calling it again does nothing.
    public func stop() {
        relay.stop()
    }
}

/// The part of the proxy its threads hold on to. Keeping it apart from `CuttingProxy` lets the threads run without
/// keeping the proxy alive, so dropping the last reference to the proxy still reaches `deinit` and stops them.
private final class Relay: Sendable {
    struct State {
        var isStopping = false
        /// Sockets of relayed connections, so `stop()` can wake every thread blocked on one. A socket leaves this set
        /// before it is closed, under the same lock, so `stop()` never touches a descriptor number the system has
        /// already handed out again.
        var openSockets: Set<Int32> = []
        /// Client bytes let through towards the upstream, including those still being sent, so concurrent
        /// connections agree on where the cut falls.
        var admittedFromClients: Int64 = 0
        var forwardedToUpstream: Int64 = 0
        /// Kept apart from `cuts`, which also counts a cut reply, so that cutting a reply does not stop `cutAfter`.
        var hasCutUpload = false
        var replyCut = ReplyCut.notMarked
        var cuts = 0
        var connections = 0
    }

    /// How far the cut of a reply has come. It names the connection rather than a socket, because the system hands
    /// out a closed socket's number again.
    enum ReplyCut: Equatable {
        case notMarked
        case marked(connection: Int)
        case done
    }

    /// What to do with the bytes of one read from a client.
    struct Admission {
        var bytesToRelay: Int
        var cutsConnection: Bool
        var stallsConnection = false
    }

    struct Connection {
        /// Counts from 1 in the order the proxy accepted the connections.
        let id: Int
        let client: Int32
        let upstream: Int32
    }

    let state = Mutex(State())
    private let upstreamPort: Int
    private let cutAfter: Int64?
    private let cutReplyAfter: Int64?
    private let stallAfter: Int64?
    private let uploadBytesPerSecond: Int64?
    private let runningThreads = DispatchGroup()
    private static let acceptPollMilliseconds: Int32 = 100
    private static let bufferSize = 64 * 1024

    init(upstreamPort: Int, cutAfter: Int64?, cutReplyAfter: Int64?, stallAfter: Int64?, uploadBytesPerSecond: Int64?) {
        self.upstreamPort = upstreamPort
        self.cutAfter = cutAfter
        self.cutReplyAfter = cutReplyAfter
        self.stallAfter = stallAfter
        self.uploadBytesPerSecond = uploadBytesPerSecond
    }

    func start(acceptingOn listener: Int32) {
        spawn("CuttingProxy accept") { self.acceptClients(on: listener) }
    }

    func stop() {
        state.withLock { state in
            state.isStopping = true
            // Shutting down rather than closing wakes the relay threads blocked in recv or send on these sockets;
            // each thread closes its own sockets once it is done with them.
            for socket in state.openSockets {
                shutdown(socket, Int32(SHUT_RDWR))
            }
        }
        runningThreads.wait()
    }

    private func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        runningThreads.enter()
        let thread = Thread {
            body()
            self.runningThreads.leave()
        }
        thread.name = name
        thread.start()
    }

    private var isStopping: Bool { state.withLock { $0.isStopping } }

    private func acceptClients(on listener: Int32) {
        defer { close(listener) }
        while !isStopping {
            // A blocking accept could not notice `stop()`; polling with a timeout bounds how long `stop()` waits.
            var request = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, Self.acceptPollMilliseconds) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let id = state.withLock { state in
                state.connections += 1
                return state.connections
            }
            guard let upstream = LoopbackSocket.connect(port: upstreamPort) else {
                close(client)
                continue
            }
            startRelaying(Connection(id: id, client: client, upstream: upstream))
        }
    }

    private func startRelaying(_ connection: Connection) {
        let registered = state.withLock { state in
            guard !state.isStopping else { return false }
            state.openSockets.formUnion([connection.client, connection.upstream])
            return true
        }
        guard registered else {
            close(connection.client)
            close(connection.upstream)
            return
        }
        // One thread per direction, so a peer that only reads after it has written cannot stall the other direction.
        let downloadFinished = DispatchSemaphore(value: 0)
        spawn("CuttingProxy download") {
            self.copy(from: connection.upstream, to: connection.client, of: connection, isUpload: false)
            downloadFinished.signal()
        }
        spawn("CuttingProxy upload") {
            self.copy(from: connection.client, to: connection.upstream, of: connection, isUpload: true)
            downloadFinished.wait()
            self.closeSockets(of: connection)
        }
    }

    /// Relays one direction until its source ends, then passes the end on as a half-close so that the other
    /// direction, typically the response, keeps flowing. Any failure drops the whole connection instead, because a
    /// half-close would make a reset look like a complete message.
    private func copy(from source: Int32, to destination: Int32, of connection: Connection, isUpload: Bool) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.bufferSize, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let received = LoopbackSocket.receive(from: source, into: buffer)
            if received == 0 {
                shutdown(destination, Int32(SHUT_WR))
                return
            }
            guard received > 0 else {
                drop(connection)
                return
            }
            let admission =
                isUpload
                ? admit(received, on: connection)
                : admitReply(UnsafeRawBufferPointer(rebasing: buffer[..<received]), on: connection)
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<admission.bytesToRelay])
            guard LoopbackSocket.sendAll(bytes, to: destination) else {
                drop(connection)
                return
            }
            if isUpload {
                state.withLock { $0.forwardedToUpstream += Int64(bytes.count) }
                if let uploadBytesPerSecond {
                    usleep(useconds_t(Int64(bytes.count) * 1_000_000 / uploadBytesPerSecond))
                }
            }
            if admission.cutsConnection {
                drop(connection)
                return
            }
            if admission.stallsConnection {
                // Read nothing more: the client's send buffer fills and it blocks, as on a network that hangs.
                while !isStopping { usleep(50_000) }
                return
            }
        }
    }

    private func admit(_ count: Int, on connection: Connection) -> Admission {
        state.withLock { state in
            let admission: Admission
            let total = state.admittedFromClients + Int64(count)
            if let cutAfter, !state.hasCutUpload, total > cutAfter {
                admission = Admission(bytesToRelay: Int(cutAfter - state.admittedFromClients), cutsConnection: true)
                state.admittedFromClients = cutAfter
                state.hasCutUpload = true
                state.cuts += 1
            } else if let stallAfter, total > stallAfter {
                let allowed = max(0, stallAfter - state.admittedFromClients)
                admission = Admission(bytesToRelay: Int(allowed), cutsConnection: false, stallsConnection: true)
                state.admittedFromClients += allowed
            } else {
                admission = Admission(bytesToRelay: count, cutsConnection: false)
                state.admittedFromClients = total
            }
            // Marking before the bytes go out, rather than after, means the mark is in place however quickly the
            // upstream answers them.
            if let cutReplyAfter, state.replyCut == .notMarked, state.admittedFromClients >= cutReplyAfter {
                state.replyCut = .marked(connection: connection.id)
            }
            return admission
        }
    }

    /// Lets the upstream's bytes through unless they begin the reply on the connection marked for `cutReplyAfter`;
    /// then only its first line goes on (an HTTP status line), or one byte when the first read holds no line end, so
    /// that the client holds a reply that has started but will never finish. A whole first line matters for HTTP:
    /// libcurl silently resends a request on a fresh connection when a reused one dies before a full header line.
    private func admitReply(_ bytes: UnsafeRawBufferPointer, on connection: Connection) -> Admission {
        state.withLock { state in
            guard state.replyCut == .marked(connection: connection.id) else {
                return Admission(bytesToRelay: bytes.count, cutsConnection: false)
            }
            state.replyCut = .done
            state.cuts += 1
            let firstLine = bytes.firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 1
            return Admission(bytesToRelay: firstLine, cutsConnection: true)
        }
    }

    /// Shuts both sockets down, which also wakes the thread of the other direction. The client's side goes first so
    /// that nothing the upstream answers to the ending upload can still reach the client.
    private func drop(_ connection: Connection) {
        shutdown(connection.client, Int32(SHUT_RDWR))
        shutdown(connection.upstream, Int32(SHUT_RDWR))
    }

    private func closeSockets(of connection: Connection) {
        state.withLock { state in
            state.openSockets.subtract([connection.client, connection.upstream])
        }
        close(connection.client)
        close(connection.upstream)
    }
}
