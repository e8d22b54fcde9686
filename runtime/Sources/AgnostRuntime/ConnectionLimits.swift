import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// When a connection must have sent a whole request header, as a value with no I/O.
///
/// The clock starts when the connection opens, and again when the first byte of a request arrives on a
/// kept-alive connection; it stops when the request head is decoded. Between requests no clock runs: that wait
/// belongs to the idle limit, so a client that reuses its connection after, say, 30 s is served even though the
/// header limit is 10 s. This is the shape of Go's `ReadHeaderTimeout`. The whole request head is what stops the
/// clock, so a slow body after it is never cut by this limit.
///
/// A request whose bytes arrive while an earlier request on the same connection is still open (pipelining) is
/// not timed, because telling its first byte from the earlier body would take parsing twice.
package struct RequestHeaderDeadline {
    package enum Phase: Equatable {
        /// Waiting for the head of a request whose first byte (or whose connection) came at `since`.
        case awaitingHead(since: NIODeadline)
        /// A request is open: its body is arriving or its response is being written.
        case inRequest
        /// Between requests, under the idle limit.
        case idle
    }

    package enum TimerAction: Equatable {
        case schedule(at: NIODeadline)
        case none
    }

    package enum ExpiryAction: Equatable {
        case close
        case reschedule(at: NIODeadline)
        case none
    }

    package let limit: TimeAmount
    package private(set) var phase: Phase
    /// Heads decoded whose response has not ended yet.
    private var openResponses = 0
    /// Whether a decoded request's body has not ended yet.
    private var bodyOpen = false
    /// At most one timer per connection: a keep-alive connection answering request after request reuses the
    /// one it has, so no request schedules or cancels a timer of its own.
    private var timerPending = false

    package init(limit: TimeAmount, openedAt now: NIODeadline) {
        self.limit = limit
        self.phase = .awaitingHead(since: now)
    }

    /// The first timer, armed once when the connection opens.
    package mutating func connectionOpened() -> TimerAction {
        guard case .awaitingHead(let since) = phase, !timerPending else { return .none }
        timerPending = true
        return .schedule(at: since + limit)
    }

    /// Raw bytes came in; only when idle do they start a new request's clock. `now` is read only then.
    package mutating func bytesArrived(at now: @autoclosure () -> NIODeadline) -> TimerAction {
        guard case .idle = phase else { return .none }
        let started = now()
        phase = .awaitingHead(since: started)
        guard !timerPending else { return .none }
        timerPending = true
        return .schedule(at: started + limit)
    }

    package mutating func headArrived() {
        openResponses += 1
        bodyOpen = true
        phase = .inRequest
    }

    package mutating func bodyEnded() {
        bodyOpen = false
        settle()
    }

    package mutating func responseEnded() {
        openResponses = max(0, openResponses - 1)
        settle()
    }

    /// The pending timer went off: close a connection still short of a head past its limit, wait longer for one
    /// whose clock started later, and let the timer lapse otherwise.
    package mutating func timerExpired(at now: NIODeadline) -> ExpiryAction {
        timerPending = false
        guard case .awaitingHead(let since) = phase else { return .none }
        let due = since + limit
        if now >= due { return .close }
        timerPending = true
        return .reschedule(at: due)
    }

    private mutating func settle() {
        if phase == .inRequest, openResponses == 0, !bodyOpen {
            phase = .idle
        }
    }
}

/// Sees raw bytes ahead of the HTTP decoder, and owns the connection's header timer.
final class RequestHeaderTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var state: RequestHeaderDeadline
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limit: TimeAmount) {
        state = RequestHeaderDeadline(limit: limit, openedAt: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { apply(state.connectionOpened()) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        apply(state.connectionOpened())
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        apply(state.bytesArrived(at: .now()))
        context.fireChannelRead(data)
    }

    func headArrived() { state.headArrived() }
    func bodyEnded() { state.bodyEnded() }
    func responseEnded() { state.responseEnded() }

    private func apply(_ action: RequestHeaderDeadline.TimerAction) {
        guard case .schedule(let deadline) = action, let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            switch state.timerExpired(at: .now()) {
            case .close: self.context?.close(promise: nil)
            case .reschedule(let later): apply(.schedule(at: later))
            case .none: break
            }
        }
    }

    private func cancel() {
        timer?.cancel()
        timer = nil
    }
}

/// Sees decoded request parts and response parts, and tells the ``RequestHeaderTimer`` where the request stands.
final class RequestPhaseObserver: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timer: RequestHeaderTimer

    init(_ timer: RequestHeaderTimer) {
        self.timer = timer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: timer.headArrived()
        case .body: break
        case .end: timer.bodyEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { timer.responseEnded() }
        context.write(data, promise: promise)
    }
}

/// Hummingbird's HTTP/1.1 channel, with a request-header time limit in front of its decoder.
///
/// Hummingbird's own idle timeout closes connections with nothing to do; it cannot tell a connection that sends
/// half a header from one that is busy, because it only sees decoded parts. The ``RequestHeaderTimer`` sees the
/// bytes before the decoder does, and the ``RequestPhaseObserver`` after it.
struct TimedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let headerTimeout: TimeAmount

    /// An `Application` server whose connections have `headerTimeout` to send each request head and
    /// `idleTimeout` to start the next request.
    static func builder(headerTimeout: Duration, idleTimeout: Duration) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            TimedHTTP1Channel(
                base: HTTP1Channel(responder: responder, configuration: .init(idleTimeout: TimeAmount(idleTimeout))),
                headerTimeout: TimeAmount(headerTimeout)
            )
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timer = RequestHeaderTimer(limit: headerTimeout)
        do {
            try channel.pipeline.syncOperations.addHandler(timer, position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // The observer belongs to this connection alone; the loop-bound box lets the configuration's
        // `@Sendable` closure hand it to the pipeline, which calls it right here on the same event loop.
        let observer = NIOLoopBound(RequestPhaseObserver(timer), eventLoop: channel.eventLoop)
        var configuration = base.configuration
        configuration.additionalChannelHandlers = { [observer.value] }
        return HTTP1Channel(responder: base.responder, configuration: configuration)
            .setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
