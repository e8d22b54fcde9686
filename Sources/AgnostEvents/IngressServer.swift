import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The broker ingress: an HTTP server that hands each POSTed CloudEvent to the hub, as a Knative Broker's ingress
/// does, on any path but those of the hub's own API under `/agnost/hub/` (see ``HubAPI``).
///
/// A request with `Agnost-Wait: outcome` is answered after the message's first delivery, with a JSON object of its
/// `id`, `attempt`, and the server's `status` or the transport `error`.
final class IngressServer: Sendable {
    static let waitHeader = "agnost-wait"

    private let hub: EventHub
    private let host: String
    private let port: Int
    private let server = Mutex<Running?>(nil)

    init(hub: EventHub, host: String, port: Int) {
        self.hub = hub
        self.host = host
        self.port = port
    }

    /// Starts listening and returns the URL once the port is bound.
    func start(maximumEventSize: Int) async throws(EventHubError) -> String {
        let router = Router()
        let hub = self.hub
        let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            if request.uri.path.hasPrefix(HubAPI.prefix) {
                let (status, text) = await hub.administer(
                    method: request.method.rawValue,
                    path: request.uri.path,
                    authorization: request.headers[.authorization]
                )
                return Self.response(status, text)
            }
            let body: [UInt8]
            do {
                body = Array(try await request.body.collect(upTo: maximumEventSize).readableBytesView)
            } catch {
                return Self.response(413, #"{"error":"the event is larger than \#(maximumEventSize) bytes"}"#)
            }
            let headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
            let wait = headers.contains { $0.name == Self.waitHeader && $0.value.lowercased() == "outcome" }
            let (status, text) = await hub.receive(headers: headers, body: body, waitForOutcome: wait)
            return Self.response(status, text)
        }
        router.post("/", use: handler)
        router.post("**", use: handler)
        router.get("**", use: handler)
        let logger = Logger(label: "agnost.events.ingress") { _ in WarningLogHandler() }
        let (bound, boundContinuation) = AsyncStream.makeStream(of: Int?.self)
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port)
                boundContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [application],
                gracefulShutdownSignals: [],
                logger: logger
            )
        )
        let running = Task {
            do {
                try await group.run()
            } catch {
                boundContinuation.yield(nil)
            }
            boundContinuation.finish()
        }
        server.withLock { $0 = Running(task: running, group: group) }
        var iterator = bound.makeAsyncIterator()
        guard let next = await iterator.next(), let boundPort = next else {
            await group.triggerGracefulShutdown()
            throw EventHubError(.cannotListen, "the broker ingress cannot listen on \(host):\(port)", context: host)
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "http://\(shownHost):\(boundPort)/"
    }

    /// Stops listening once the requests being answered are.
    func stop() async {
        guard let running = server.withLock({ $0.take() }) else { return }
        await running.group.triggerGracefulShutdown()
        await running.task.value
    }

    private static func response(_ status: Int, _ text: String) -> Response {
        var headers = HTTPFields()
        if !text.isEmpty { headers[.contentType] = "application/json" }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// The running server, to stop it by.
private struct Running: Sendable {
    var task: Task<Void, Never>
    var group: ServiceGroup
}

/// Writes the ingress server's warnings and errors to standard error. Unlike swift-log's stream handler, it does
/// nothing with metadata until a message is written, since the server sets a request id on every request's logger.
private struct WarningLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let shown = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }
            .map { " \($0.key)=\($0.value)" }.joined()
        FileHandle.standardError.write(Data("event hub ingress: \(event.level): \(event.message)\(shown)\n".utf8))
    }
}
