import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The broker ingress: an HTTP server that hands each POSTed CloudEvent to the hub, as a Knative Broker's ingress
/// does, on any path but those of the hub's own API under `/agnost/hub/` (see ``HubAPI``).
///
/// It runs on the hub's event loop, which the hub's actor runs on too: a request is read, checked, stored and
/// answered there, and the sync that makes it durable is shared with every request read in the same pass.
///
/// A request with `Agnost-Wait: outcome` is answered after the message's first delivery, with a JSON object of its
/// `id`, `attempt`, and the server's `status` or the transport `error`.
final class IngressServer: Sendable {
    static let waitHeader = "agnost-wait"

    private let hub: EventHub
    private let host: String
    private let port: Int
    private let channel = Mutex<(any Channel)?>(nil)

    init(hub: EventHub, host: String, port: Int) {
        self.hub = hub
        self.host = host
        self.port = port
    }

    /// Starts listening and returns the URL once the port is bound.
    func start(maximumEventSize: Int) async throws(EventHubError) -> String {
        let hub = self.hub
        let bootstrap = ServerBootstrap(group: hub.eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        IngressHandler(hub: hub, maximumEventSize: maximumEventSize)
                    )
                }
            }
        let listening: any Channel
        do {
            listening = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw EventHubError(
                .cannotListen,
                "the broker ingress cannot listen on \(host):\(port): \(error)",
                context: host
            )
        }
        channel.withLock { $0 = listening }
        let boundPort = listening.localAddress?.port ?? port
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(boundPort)/"
    }

    /// Stops listening; connections still open close with the hub's event loop.
    func stop() async {
        guard let listening = channel.withLock({ $0.take() }) else { return }
        try? await listening.close()
    }
}

/// Gathers one request at a time (the pipeline holds back a pipelined next one until this one is answered) and
/// hands it to the hub.
private final class IngressHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let hub: EventHub
    private let maximumEventSize: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(hub: EventHub, maximumEventSize: Int) {
        self.hub = hub
        self.maximumEventSize = maximumEventSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
            let declared = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            tooLarge = declared > maximumEventSize
            if !tooLarge, head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                    promise: nil
                )
            }
        case .body(let buffer):
            guard !tooLarge else { return }
            if body.count + buffer.readableBytes > maximumEventSize {
                tooLarge = true
                body = []
                return
            }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head else { return }
            self.head = nil
            if tooLarge {
                let text = #"{"error":"the event is larger than \#(maximumEventSize) bytes"}"#
                return Self.respond(context, head, 413, text, close: true)
            }
            handle(head, context: context)
        }
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let responder = NIOLoopBound((context, head), eventLoop: context.eventLoop)
        let respond: @Sendable (Int, String) -> Void = { status, text in
            let (context, head) = responder.value
            Self.respond(context, head, status, text, close: !head.isKeepAlive)
        }
        let path = head.uri.prefix { $0 != "?" }
        if path.hasPrefix(HubAPI.prefix) {
            let hub = self.hub
            let method = head.method.rawValue
            let authorization = head.headers.first(name: "authorization")
            let loop = context.eventLoop
            Task {
                let (status, text) = await hub.administer(
                    method: method,
                    path: String(path),
                    authorization: authorization
                )
                loop.execute { respond(status, text) }
            }
            return
        }
        guard head.method == .POST else {
            return respond(405, EventHub.json(["error": "the broker ingress takes events by POST"]))
        }
        let headers = head.headers.map { (name: $0.name.lowercased(), value: $0.value) }
        let wait = headers.contains { $0.name == IngressServer.waitHeader && $0.value.lowercased() == "outcome" }
        let body = self.body
        hub.assumeIsolated { hub in
            hub.receive(headers: headers, body: body, waitForOutcome: wait, respond: respond)
        }
    }

    private static func respond(
        _ context: ChannelHandlerContext,
        _ request: HTTPRequestHead,
        _ status: Int,
        _ text: String,
        close: Bool
    ) {
        var headers = HTTPHeaders()
        if !text.isEmpty { headers.add(name: "Content-Type", value: "application/json") }
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: request.version,
            status: HTTPResponseStatus(statusCode: status),
            headers: headers
        )
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if !text.isEmpty {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
        }
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        if close {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
