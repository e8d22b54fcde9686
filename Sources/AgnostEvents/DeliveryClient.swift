import AgnostHTTP
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Sends the hub's deliveries and cron firings to the version's server over keep-alive HTTP/1.1 connections on the
/// hub's own event loop, so that a delivery, its answer and what the hub does with it never change threads.
///
/// Used from that event loop alone, as the hub's actor runs on it. A connection carries one request at a time; those
/// idle are kept for the next one, so concurrent deliveries open at most as many connections as run at once.
///
/// ```swift
/// let client = DeliveryClient(eventLoop: loop)
/// client.send(request) { outcome, duration in print(outcome, duration) }
/// ```
final class DeliveryClient {
    typealias Completion = (DeliveryOutcome, Duration) -> Void

    private let eventLoop: any EventLoop
    /// Connections that answered their last request and wait for the next, by the address they reach.
    private var idle: [Address: [Connection]] = [:]
    /// Every connection open, to close them all at the end.
    private var open: [ObjectIdentifier: Connection] = [:]
    private var closed = false

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Sends `request` (an `http` URL and a bytes body) and calls `completion` on the event loop with the status or
    /// the transport failure, and how long it took; once, whatever happens.
    func send(_ request: HTTPClientRequest, completion: @escaping Completion) {
        let started = ContinuousClock.now
        let finish: (DeliveryOutcome) -> Void = { outcome in completion(outcome, ContinuousClock.now - started) }
        guard !closed else { return finish(.transportError("the event hub is stopping")) }
        guard let (address, target) = Address.parse(request.url) else {
            return finish(.transportError("\(request.url) is not an http:// URL the hub can deliver to"))
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target)
        head.headers.add(name: "Host", value: address.hostHeader)
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        let body: [UInt8]
        switch request.body {
        case .bytes(let bytes): body = bytes
        case .file, nil: body = []
        }
        head.headers.add(name: "Content-Length", value: String(body.count))
        let exchange = Exchange(head: head, body: body, timeout: request.timeout, completion: finish)
        start(exchange, at: address, mayReuse: true)
    }

    /// Closes every connection; requests running fail, later ones fail at once.
    func close() {
        closed = true
        idle = [:]
        for connection in open.values { connection.channel.close(promise: nil) }
        open = [:]
    }

    /// Drops the idle connections, as when the server moved to another port.
    func forgetIdleConnections() {
        for connection in idle.values.joined() {
            open[ObjectIdentifier(connection.handler)] = nil
            connection.channel.close(promise: nil)
        }
        idle = [:]
    }

    private func start(_ exchange: Exchange, at address: Address, mayReuse: Bool) {
        while mayReuse, let connection = idle[address]?.popLast() {
            guard connection.channel.isActive else {
                open[ObjectIdentifier(connection.handler)] = nil
                continue
            }
            run(exchange, on: connection, at: address, reused: true)
            return
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(DeliveryHandler())
                }
            }
        let loop = eventLoop
        let bound = NIOLoopBound((self, exchange), eventLoop: loop)
        bootstrap.connect(host: address.host, port: address.port).whenComplete { result in
            let (client, exchange) = bound.value
            switch result {
            case .success(let channel):
                guard let handler = try? channel.pipeline.syncOperations.handler(type: DeliveryHandler.self),
                    !client.closed
                else {
                    channel.close(promise: nil)
                    return exchange.completion(.transportError("the event hub is stopping"))
                }
                let connection = Connection(channel: channel, handler: handler)
                client.open[ObjectIdentifier(handler)] = connection
                client.run(exchange, on: connection, at: address, reused: false)
            case .failure(let error):
                let reason = Self.reason(error)
                exchange.completion(.transportError("cannot connect to \(address.hostHeader): \(reason)"))
            }
        }
    }

    private func run(_ exchange: Exchange, on connection: Connection, at address: Address, reused: Bool) {
        let timeout = exchange.timeout.map { limit in
            let handler = NIOLoopBound(connection.handler, eventLoop: eventLoop)
            let channel = connection.channel
            return eventLoop.scheduleTask(in: .nanoseconds(Int64(limit / .nanoseconds(1)))) {
                handler.value.timedOut = true
                channel.close(promise: nil)
            }
        }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        connection.handler.expect { answer in
            timeout?.cancel()
            let client = bound.value
            switch answer {
            case .status(let status, let keepAlive):
                if keepAlive && !client.closed {
                    client.idle[address, default: []].append(connection)
                } else {
                    client.open[ObjectIdentifier(connection.handler)] = nil
                    connection.channel.close(promise: nil)
                }
                exchange.completion(.status(status))
            case .closed(let receivedAnything, let error, let timedOut):
                client.open[ObjectIdentifier(connection.handler)] = nil
                if reused && !receivedAnything && !timedOut && !client.closed {
                    // A kept-alive connection the server closed while it idled: the request never reached a
                    // handler that answered, so it goes again on a new connection rather than count as an attempt.
                    return client.start(exchange, at: address, mayReuse: false)
                }
                let reason =
                    if timedOut, let timeout = exchange.timeout {
                        "no answer from \(address.hostHeader) within \(timeout)"
                    } else if let error {
                        "the connection to \(address.hostHeader) failed: \(Self.reason(error))"
                    } else {
                        "\(address.hostHeader) closed the connection before it answered"
                    }
                exchange.completion(.transportError(reason))
            }
        }
        let channel = connection.channel
        channel.write(HTTPClientRequestPart.head(exchange.head), promise: nil)
        if !exchange.body.isEmpty {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: exchange.body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }
}

extension DeliveryClient {
    /// `connection refused`, as the hub's log shows it, not the dump of an `IOError` or `NIOConnectionError`.
    static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return reason(first.error)
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        return "\(error)"
    }
}

/// One request on its way: what to write, and whom to tell.
private struct Exchange {
    var head: HTTPRequestHead
    var body: [UInt8]
    var timeout: Duration?
    /// Told the outcome; the client's caller is told how long the whole took, retries on a new connection included.
    var completion: (DeliveryOutcome) -> Void
}

private struct Connection {
    var channel: any Channel
    var handler: DeliveryHandler
}

/// Where a request goes: `host` and `port` of an `http://` URL.
struct Address: Hashable {
    var host: String
    var port: Int

    /// The `Host` header's value, and how errors name the server.
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The address and the request target (path and query) of an `http://` URL; nil for anything else.
    static func parse(_ url: String) -> (Address, String)? {
        guard url.lowercased().hasPrefix("http://") else { return nil }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var target = String(rest.dropFirst(authority.count))
        if target.isEmpty || target.first == "?" { target = "/" + target }
        let host: Substring
        var port = 80
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let number = Int(after.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let number = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = number
        } else {
            host = authority
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return (Address(host: String(host), port: port), target)
    }
}

/// The end of one exchange on a connection.
private enum Answer {
    /// The response ended; `keepAlive` when the connection may carry the next request.
    case status(Int, keepAlive: Bool)
    /// The connection closed or failed first; `receivedAnything` once a byte of the response had arrived.
    case closed(receivedAnything: Bool, error: (any Error)?, timedOut: Bool)
}

/// Reads one response at a time off its connection, and reports how the exchange ended.
private final class DeliveryHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var waiting: ((Answer) -> Void)?
    private var response: HTTPResponseHead?
    private var error: (any Error)?
    /// The hub closed the connection because the request ran out of time.
    var timedOut = false

    func expect(_ answer: @escaping (Answer) -> Void) {
        waiting = answer
        response = nil
        error = nil
        timedOut = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = head
        case .body:
            break
        case .end:
            guard let response, let waiting else { return }
            self.waiting = nil
            self.response = nil
            waiting(.status(Int(response.status.code), keepAlive: response.isKeepAlive))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.error = self.error ?? error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard let waiting else { return }
        self.waiting = nil
        waiting(.closed(receivedAnything: response != nil, error: error, timedOut: timedOut))
    }
}
