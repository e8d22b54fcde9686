import AgnostHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import AgnostEvents

/// The ingress's HTTP, and the deliveries' connections, which the hub runs on its own event loop.
@Suite struct IngressTests {
    let hubTests = EventHubTests()

    @Test func otherMethodsAndEventsOverTheLimitAreRefusedAndALargeEventMayExpectAContinue() async throws {
        let limits = EventHubLimits(maximumEventSize: 4_000)
        try await hubTests.withHub(server: nil, limits: limits) { hub in
            let client = try HTTPClient()
            let put = try await client.execute(HTTPClientRequest(method: "PUT", url: await hub.ingressURL, body: []))
            #expect(put.status == 405)
            #expect(put.bodyText.contains("POST"))
            let large = try await hubTests.send(to: hub, body: "\"" + String(repeating: "x", count: 5_000) + "\"")
            #expect(large.status == 413)
            #expect(large.bodyText.contains("4000 bytes"))
            // A client that asks before it sends a body gets its `100 Continue`, then the answer.
            let asking = try await hubTests.send(
                to: hub,
                extra: [("Expect", "100-continue")],
                body: "\"" + String(repeating: "y", count: 3_000) + "\""
            )
            #expect(asking.status == 202)
        }
    }

    @Test func aSecondEventOnAKeptAliveConnectionIsAnsweredToo() async throws {
        try await hubTests.withHub(server: nil) { hub in
            // One client, one connection: libcurl keeps it alive between the requests.
            let client = try HTTPClient()
            for index in 0..<3 {
                let response = try await hubTests.send(to: hub, id: "kept-\(index)", client: client)
                #expect(response.status == 202, "event \(index)")
            }
        }
    }

    /// A server may close a kept-alive connection just as the next delivery goes out on it: that delivery goes
    /// again on a new connection, still as its first attempt, rather than count as a failure.
    @Test func aDeliveryOnAConnectionTheServerDroppedGoesAgainOnANewOne() async throws {
        try await withClosingServer { server in
            try await hubTests.withHub(server: server.url) { hub in
                for index in 1...2 {
                    let response = try await hubTests.send(to: hub, id: "drop-\(index)")
                    #expect(response.status == 202)
                    try await server.waitForAnswers(index)
                }
                var iterator = hub.events.makeAsyncIterator()
                var delivered: [String: Int] = [:]
                while delivered.count < 2, let event = await iterator.next() {
                    switch event {
                    case .delivered(_, let id, 200, _, let attempt): delivered[id] = attempt
                    case .retrying(_, let id, _, let failure, _):
                        Issue.record("\(id) was retried after \(failure)")
                        return
                    default: break
                    }
                }
                #expect(delivered == ["drop-1": 1, "drop-2": 1])
                // The second message reached the server twice: on the kept connection, which it dropped, then anew.
                #expect(server.requestsByConnection == [2, 1])
            }
        }
    }

    /// A delivery to a server that is not listening fails, and is retried, with a reason a person reads.
    @Test func aServerThatIsNotListeningIsNamedWithTheReason() async throws {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        try await listener.close()
        try await hubTests.withHub(server: "http://127.0.0.1:\(port)") { hub in
            let response = try await hubTests.send(to: hub, id: "nobody-home")
            #expect(response.status == 202)
            let failure = await withTaskGroup(of: DeliveryFailure?.self) { group in
                group.addTask {
                    for await event in hub.events {
                        if case .retrying(_, "nobody-home", 1, let failure, _) = event { return failure }
                    }
                    return nil
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(10))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            #expect(failure == .transport("cannot connect to 127.0.0.1:\(port): connection refused"))
        }
    }

    /// A server that answers the first request on each connection and closes it, unanswered, on the second.
    private func withClosingServer(_ body: (ClosingServer) async throws -> Void) async throws {
        let server = ClosingServer()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ClosingHandler(server: server))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.url = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)"
        do {
            try await body(server)
        } catch {
            try? await channel.close()
            throw error
        }
        try await channel.close()
    }
}

private final class ClosingServer: @unchecked Sendable {
    // Mutable state under the lock; `url` is set once, before the server is used.
    private let state = Mutex<(answered: Int, byConnection: [Int])>((0, []))
    var url = ""

    var requestsByConnection: [Int] { state.withLock { $0.byConnection } }

    func connected() -> Int {
        state.withLock { state in
            state.byConnection.append(0)
            return state.byConnection.count - 1
        }
    }

    /// Counts a request on `connection` and says whether to answer it.
    func received(on connection: Int) -> Bool {
        state.withLock { state in
            state.byConnection[connection] += 1
            guard state.byConnection[connection] == 1 else { return false }
            state.answered += 1
            return true
        }
    }

    func waitForAnswers(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while state.withLock({ $0.answered }) < count {
            guard ContinuousClock.now < deadline else { throw CancellationError() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

private final class ClosingHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ClosingServer
    private var connection = -1

    init(server: ClosingServer) {
        self.server = server
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = server.connected()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        guard server.received(on: connection) else {
            context.close(promise: nil)
            return
        }
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
