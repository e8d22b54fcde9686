import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where queue messages are POSTed: `http://[user:password@]host[:port][/path]`, from
/// ``AgnostBundle/EventContract/brokerURLVariable``.
///
/// Plain HTTP only: a Knative Broker's ingress is a cluster-internal address, and the local hub listens on
/// 127.0.0.1. TLS would bring a C library (BoringSSL) into every function's binary for neither.
struct BrokerAddress: Sendable, Equatable {
    let host: String
    let port: Int
    /// The request target: path and query.
    let target: String
    /// `Basic` credentials from the URL's user information, if it has any.
    let authorization: String?
    /// The URL without its credentials, the only form errors and logs show.
    let display: String

    struct Invalid: Error {
        let reason: String
    }

    static func parse(_ text: String) throws(Invalid) -> BrokerAddress {
        let lowered = text.lowercased()
        guard lowered.hasPrefix("http://") else {
            let scheme = lowered.hasPrefix("https://") ? "https" : "anything but http"
            throw Invalid(
                reason: "must be an http:// URL; \(scheme) is not supported, as brokers are cluster-internal or local"
            )
        }
        let rest = text.dropFirst("http://".count)
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let target = rest[authorityEnd...]
        var authorization: String?
        if let at = authority.lastIndex(of: "@") {
            let userInformation = PercentEncoding.decode(authority[..<at])
            authorization = "Basic " + Data(userInformation.utf8).base64EncodedString()
            authority = authority[authority.index(after: at)...]
        }
        var host = authority
        var port = 80
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else {
                throw Invalid(reason: "has an unclosed '[' in its host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.first == ":", let number = Int(after.dropFirst()) else {
                    throw Invalid(reason: "has an invalid port")
                }
                port = number
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]) else {
                throw Invalid(reason: "has an invalid port")
            }
            host = authority[..<colon]
            port = number
        }
        guard !host.isEmpty else { throw Invalid(reason: "has no host") }
        guard (1...65_535).contains(port) else { throw Invalid(reason: "has a port outside 1 to 65535") }
        let shownAuthority = authority.first == "[" || !host.contains(":") ? String(authority) : "[\(host)]:\(port)"
        return BrokerAddress(
            host: String(host),
            port: port,
            target: target.isEmpty ? "/" : (target.first == "?" ? "/" + target : String(target)),
            authorization: authorization,
            display: "http://\(shownAuthority)\(target)"
        )
    }
}

/// A small HTTP/1.1 client for POSTing to the broker, over NIOPosix and NIOHTTP1 (already linked for the
/// server), so that sending adds neither Foundation nor a TLS library to a function's binary.
///
/// Connections are kept alive and reused, at most ``maximumIdle`` of them idle at a time. Each exchange has a
/// deadline covering connect, request and response, and cancelling the calling task closes its connection.
final class BrokerClient: Sendable {
    struct Reply: Sendable {
        let status: Int
        /// The start of the response body, for error messages.
        let excerpt: String
    }

    enum Failure: Error, Sendable {
        case cannotConnect(String)
        /// The connection closed before a whole response; `beforeResponse` when not even its head arrived.
        case closed(beforeResponse: Bool)
        case timedOut
        case cancelled
    }

    static let maximumIdle = 4

    let address: BrokerAddress
    private let group: any EventLoopGroup
    private let timeout: Duration
    private let idle = Mutex<[any Channel]>([])

    init(address: BrokerAddress, group: any EventLoopGroup, timeout: Duration) {
        self.address = address
        self.group = group
        self.timeout = timeout
    }

    func post(headers: [(String, String)], body: ByteBuffer) async throws(Failure) -> Reply {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        var requestHeaders = HTTPHeaders(headers)
        requestHeaders.add(name: "host", value: address.port == 80 ? address.host : "\(address.host):\(address.port)")
        requestHeaders.add(name: "content-length", value: String(body.readableBytes))
        if let authorization = address.authorization {
            requestHeaders.add(name: "authorization", value: authorization)
        }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: address.target, headers: requestHeaders)
        if let channel = takeIdle() {
            do throws(Failure) {
                return try await exchange(on: channel, head: head, body: body, deadline: deadline)
            } catch .closed(beforeResponse: true) {
                // The server closed the idle connection as this request went out, a race every keep-alive client
                // meets; nothing was answered, so the request goes once more on a fresh connection.
            }
        }
        let channel = try await connect(deadline: deadline)
        return try await exchange(on: channel, head: head, body: body, deadline: deadline)
    }

    private func takeIdle() -> (any Channel)? {
        idle.withLock { channels in
            while let channel = channels.popLast() {
                if channel.isActive { return channel }
            }
            return nil
        }
    }

    private func release(_ channel: any Channel, keepAlive: Bool) {
        let kept =
            keepAlive && channel.isActive
            && idle.withLock { channels in
                guard channels.count < Self.maximumIdle else { return false }
                channels.append(channel)
                return true
            }
        if !kept { channel.close(promise: nil) }
    }

    private func connect(deadline: NIODeadline) async throws(Failure) -> any Channel {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(max(deadline - .now(), .milliseconds(1)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            if case .connectTimeout = error as? ChannelError { throw .timedOut }
            throw .cannotConnect(Self.reason(error))
        }
        if Task.isCancelled {
            channel.close(promise: nil)
            throw .cancelled
        }
        return channel
    }

    private func exchange(
        on channel: any Channel,
        head: HTTPRequestHead,
        body: ByteBuffer,
        deadline: NIODeadline
    ) async throws(Failure) -> Reply {
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<ResponseCollector.Response> in
            let promise = channel.eventLoop.makePromise(of: ResponseCollector.Response.self)
            // On the channel's loop, so no close can slip in between: an idle connection closed since it was taken
            // from the pool would otherwise wait for an answer that cannot come until the deadline.
            guard channel.isActive else {
                promise.fail(Failure.closed(beforeResponse: true))
                return promise.futureResult
            }
            do {
                let collector = try channel.pipeline.syncOperations.handler(type: ResponseCollector.self)
                collector.expect(promise, deadline: deadline)
            } catch {
                promise.fail(Failure.closed(beforeResponse: true))
                return promise.futureResult
            }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            return promise.futureResult
        }
        do {
            let response = try await withTaskCancellationHandler {
                try await future.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            release(channel, keepAlive: response.keepAlive)
            return Reply(status: response.status, excerpt: response.excerpt)
        } catch {
            channel.close(promise: nil)
            if Task.isCancelled { throw .cancelled }
            throw (error as? Failure) ?? .closed(beforeResponse: false)
        }
    }

    /// `connection refused`, not the type dump of an `IOError` or `NIOConnectionError`.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return reason(first.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "its host name does not resolve" }
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if error is SocketAddressError {
            return "its host name does not resolve"
        }
        return "\(error)"
    }
}

/// Collects the one response a channel is waiting for; it lives on the channel's event loop only.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    struct Response: Sendable {
        let status: Int
        let keepAlive: Bool
        let excerpt: String
    }

    private static let excerptLimit = 200

    private var pending: EventLoopPromise<Response>?
    private var timer: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var excerpt: [UInt8] = []
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func expect(_ promise: EventLoopPromise<Response>, deadline: NIODeadline) {
        pending = promise
        head = nil
        excerpt = []
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.finish(.failure(BrokerClient.Failure.timedOut))
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            let room = Self.excerptLimit - excerpt.count
            if room > 0 { excerpt += buffer.readableBytesView.prefix(room) }
        case .end:
            guard let head else { return }
            let text = String(decoding: excerpt, as: UTF8.self)
            finish(.success(Response(status: Int(head.status.code), keepAlive: head.isKeepAlive, excerpt: text)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(BrokerClient.Failure.closed(beforeResponse: head == nil)))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(BrokerClient.Failure.closed(beforeResponse: head == nil)))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<Response, any Error>) {
        timer?.cancel()
        timer = nil
        guard let promise = pending else { return }
        pending = nil
        promise.completeWith(result)
    }
}
