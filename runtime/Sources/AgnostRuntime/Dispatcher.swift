import AgnostBundle
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// Turns a request into a response: reserved paths, CloudEvents for queues and cron jobs, routing, API keys,
/// body limit, the endpoint's middleware chain under its deadline, error mapping and the access log.
///
/// Everything per endpoint (route, chain, timeout) is resolved once in `init`; a request only walks the route
/// trie and runs the prepared chain. The HTTP server and ``AgnostRuntimeTesting`` both call ``respond(to:)``,
/// so tests exercise exactly the production path, minus the socket.
package final class Dispatcher: Sendable {
    struct Endpoint: Sendable {
        let name: String
        let parameterNames: [String]
        let chain: EndpointHandler
        let timeout: Duration
        let requiresAPIKey: Bool
        let logExecution: Bool
    }

    private let routes: RouteTable<Endpoint>
    private let apiKeys: APIKeyVerifier
    private let maxBodyBytes: Int
    let events: EventTargets
    let sending: QueueSending
    let environment: AppEnvironment
    let resources: LinkedResources
    let logger: Logger
    let accessLog: AccessLog?
    let timers: any EventLoopGroup
    private let draining = Atomic(false)
    /// The graceful-shutdown bound: no in-flight request can outlive its endpoint's timeout.
    package let longestTimeout: Duration

    /// - Parameters:
    ///   - processEnvironment: overrides the bundle's `env` values of the same names.
    ///   - outbox: where handlers' queue messages go; `nil` POSTs them to the configured broker.
    package init(
        manifest: BundleManifest,
        handlers: HandlerRegistry,
        configuration: RuntimeConfiguration,
        processEnvironment: [String: String],
        logOutput: any LogOutput,
        timers: any EventLoopGroup,
        outbox: (any QueueOutbox)? = nil
    ) throws(RuntimeStartupError) {
        var logger = Logger(label: "agnost") {
            _ in RuntimeLogHandler(output: logOutput, format: configuration.logFormat, level: configuration.logLevel)
        }
        logger.logLevel = configuration.logLevel
        self.logger = logger
        self.accessLog =
            configuration.logLevel <= .info
            ? AccessLog(output: logOutput, renderer: LogRenderer(format: configuration.logFormat)) : nil
        self.apiKeys = APIKeyVerifier(hashes: configuration.apiKeyHashes)
        self.maxBodyBytes = configuration.maxBodyBytes
        self.timers = timers
        var environment: [String: String] = [:]
        for entry in manifest.env {
            environment[entry.name] = processEnvironment[entry.name] ?? entry.value
        }
        self.environment = AppEnvironment(environment)
        self.resources = LinkedResources(manifest.resources, environment: processEnvironment)

        var problems: [String] = []
        var routes: [RouteTable<Endpoint>.Route] = []
        for plan in manifest.endpoints {
            guard let method = HTTPRequest.Method(plan.method) else {
                problems.append("endpoint '\(plan.name)' has an unknown method '\(plan.method)'")
                continue
            }
            guard let handler = handlers.endpoints[plan.handler] else {
                problems.append("endpoint '\(plan.name)' needs handler '\(plan.handler)', which is not registered")
                continue
            }
            var chain = handler
            for name in plan.middlewares.reversed() {
                guard let middleware = handlers.middlewares[name] else {
                    problems.append("endpoint '\(plan.name)' needs middleware '\(name)', which is not registered")
                    continue
                }
                let next = Next(handler: chain)
                chain = { request, context in try await middleware(request, context, next) }
            }
            let segments = RouteTable<Endpoint>.segments(of: plan.path)
            let endpoint = Endpoint(
                name: plan.name,
                parameterNames: plan.path.split(separator: "/").filter { $0.first == ":" }.map {
                    String($0.dropFirst())
                },
                chain: chain,
                timeout: .milliseconds(plan.timeoutMilliseconds),
                requiresAPIKey: plan.requiresAPIKey,
                logExecution: plan.logExecution
            )
            routes.append(.init(method: method, segments: segments, target: endpoint))
        }
        // HEAD runs the GET endpoint (its handler sees HEAD, so it may skip work); declared routes come first, so
        // a declared HEAD would win.
        routes += routes.filter { $0.method == .get }.map {
            .init(method: .head, segments: $0.segments, target: $0.target)
        }
        var queues: [String: EventTarget] = [:]
        for plan in manifest.queues {
            guard let handler = handlers.queues[plan.handler] else {
                problems.append("queue '\(plan.name)' needs handler '\(plan.handler)', which is not registered")
                continue
            }
            queues[plan.name] = EventTarget(queue: plan, handler: handler)
        }
        var cronJobs: [String: EventTarget] = [:]
        for plan in manifest.cronJobs {
            guard let handler = handlers.cronJobs[plan.handler] else {
                problems.append("cron job '\(plan.name)' needs handler '\(plan.handler)', which is not registered")
                continue
            }
            cronJobs[plan.name] = EventTarget(cron: plan, handler: handler)
        }
        var brokerOutbox: (any QueueOutbox)?
        if outbox == nil, let url = configuration.brokerURL {
            do {
                let client = BrokerClient(address: try BrokerAddress.parse(url), group: timers, timeout: .seconds(10))
                // Derived once here, not per message: HMAC costs two hashes.
                let token = configuration.internalToken.map { SenderToken.derive(from: $0.value, for: .queue) }
                brokerOutbox = BrokerOutbox(client: client, service: manifest.serviceName, token: token)
            } catch {
                throw RuntimeStartupError(.invalidEnvironment, "\(EventContract.brokerURLVariable) \(error.reason)")
            }
        }
        if !problems.isEmpty {
            throw RuntimeStartupError(.handlerNotRegistered, problems.joined(separator: "\nerror: "))
        }
        self.routes = RouteTable(routes)
        self.events = EventTargets(
            queues: queues,
            cronJobs: cronJobs,
            tokens: InternalTokenVerifier(configuration.internalToken)
        )
        self.sending = QueueSending(queues: manifest.queues.map(\.name), outbox: outbox ?? brokerOutbox)
        self.longestTimeout =
            (routes.map(\.target.timeout) + queues.values.map(\.timeout) + cronJobs.values.map(\.timeout)).max()
            ?? .seconds(1)
        if !events.tokens.isConfigured, let first = manifest.queues.first?.name ?? manifest.cronJobs.first?.name {
            logger.warning(
                "\(EventContract.internalTokenVariable) is not set, so every delivery to a queue or cron job gets 401",
                metadata: ["target": "\(first)"]
            )
        }
        if configuration.apiKeyHashes.isEmpty, let guarded = routes.first(where: { $0.target.requiresAPIKey }) {
            logger.warning(
                "AGNOST_API_KEYS is empty, so every call to an endpoint with apiKey: required gets 401",
                metadata: ["endpoint": "\(guarded.target.name)"]
            )
        }
    }

    /// From now on `/agnost/ready` answers 503, so the platform stops sending new requests.
    package func beginDraining() {
        draining.store(true, ordering: .relaxed)
    }

    /// Serves a request that did not come from a socket: the in-process path of ``AgnostRuntimeTesting``.
    package func respond(
        method: HTTPRequest.Method,
        target: String,
        headers: HTTPFields,
        body: ByteBuffer
    ) async -> Response {
        var headers = headers
        // Frame the body as an HTTP/1.1 client would; without a framing header a request has no body.
        if body.readableBytes > 0 && headers[.contentLength] == nil && headers[.transferEncoding] == nil {
            headers[.contentLength] = String(body.readableBytes)
        }
        let head = HTTPRequest(
            method: method,
            scheme: "http",
            authority: "localhost",
            path: target,
            headerFields: headers
        )
        return await respond(to: HummingbirdCore.Request(head: head, body: RequestBody(buffer: body)))
    }

    /// A `HEAD` request gets exactly what `GET` would get, including the `Content-Length` of its body, but no body.
    ///
    /// `OPTIONS` on a known path answers 204 with `Allow` listing its methods, and runs no handler or middleware;
    /// so it needs no API key even where the endpoints do, as a CORS preflight, which never carries credentials,
    /// requires. A 405 lists the same methods.
    package func respond(to request: HummingbirdCore.Request) async -> Response {
        let response = await route(request)
        return request.method == .head ? response.withoutBody() : response
    }

    private func route(_ request: HummingbirdCore.Request) async -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        if path == "/agnost" || path.hasPrefix("/agnost/") {
            if let (sender, name) = EventTargets.match(path) {
                return await deliver(sender, name, request, start)
            }
            return reserved(path: path, method: request.method)
        }
        let requestId = RequestID.make(propagating: request.headers[.requestID])
        switch routes.match(method: request.method, path: path[...]) {
        case .notFound:
            return errorResponse(HTTPError(.notFound, "no endpoint matches \(request.method) \(path)"), requestId)
        case .methodNotAllowed(let allowed):
            return methodNotAllowed(request.method, path, allowed: allowed.map(\.rawValue), requestId)
        case .undecodable:
            return errorResponse(
                HTTPError(.badRequest, "the path's percent escapes are not valid UTF-8: \(path)"),
                requestId
            )
        case .found(let endpoint, let values):
            var response = await serve(endpoint, values, request, requestId, start)
            response.headers[.requestID] = requestId
            if endpoint.logExecution {
                accessLog?.record(
                    endpoint: endpoint.name,
                    method: request.method,
                    path: path,
                    status: response.status,
                    duration: ContinuousClock.now - start,
                    requestId: requestId
                )
            }
            return response
        }
    }

    private func serve(
        _ endpoint: Endpoint,
        _ parameterValues: [String],
        _ incoming: HummingbirdCore.Request,
        _ requestId: String,
        _ start: ContinuousClock.Instant
    ) async -> Response {
        let query = Query(incoming.uri.query.map { $0[...] } ?? "")
        if endpoint.requiresAPIKey, !apiKeys.accepts(headers: incoming.headers, query: query) {
            let error = HTTPError(
                .unauthorized,
                "this endpoint needs an API key: send 'Authorization: Bearer KEY', 'x-api-key: KEY' or ?apikey=KEY",
                headers: [.wwwAuthenticate: "Bearer"]
            )
            return errorResponse(error, requestId)
        }
        let context = Context(
            logger: logger,
            requestId: requestId,
            endpoint: endpoint.name,
            deadline: start + endpoint.timeout,
            parameters: PathParameters(names: endpoint.parameterNames, values: parameterValues),
            env: environment,
            resources: resources,
            sending: sending
        )
        let chain = endpoint.chain
        // The body is read under the endpoint's deadline too: a client that sends a whole header and then dribbles
        // its body is answered 504 at the deadline (its read is cancelled, which ends the connection), rather than
        // holding the connection for as long as it likes.
        let outcome = await runWithDeadline(endpoint.timeout, timers: timers) { () -> Result<Response, any Error> in
            do {
                let request = Request(
                    method: incoming.method,
                    path: incoming.uri.path,
                    query: query,
                    headers: incoming.headers,
                    body: try await self.readBody(of: incoming)
                )
                return .success(try await chain(request, context))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case .finished(.success(let response)):
            return response
        case .finished(.failure(let error as HTTPError)):
            return errorResponse(error, requestId)
        case .finished(.failure(let error)):
            context.logger.error("handler threw an error", metadata: ["error": "\(String(reflecting: error))"])
            return errorResponse(HTTPError(.internalServerError, "internal server error"), requestId)
        case .timedOut:
            let limit = DurationText.format(endpoint.timeout)
            context.logger.warning("handler timed out and was cancelled", metadata: ["timeout": "\(limit)"])
            return errorResponse(
                HTTPError(.gatewayTimeout, "\(endpoint.name) did not answer within \(limit)"),
                requestId
            )
        }
    }

    /// Refuses an oversized body from its `Content-Length` before reading a byte, and a chunked one as soon
    /// as it passes the limit.
    func readBody(of request: HummingbirdCore.Request) async throws(HTTPError) -> ByteBuffer {
        let tooLarge = HTTPError(.contentTooLarge, "request body is larger than the limit of \(maxBodyBytes) bytes")
        let declaredLength = request.headers[.contentLength]
        if let length = declaredLength.flatMap({ Int($0) }), length > maxBodyBytes {
            throw tooLarge
        }
        // HTTP/1.1 frames a request body only by these two headers; without either there is none to wait for.
        if declaredLength == nil && request.headers[.transferEncoding] == nil {
            return ByteBuffer()
        }
        do {
            return try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw HTTPError(.badRequest, "could not read the request body")
        }
    }

    /// 204 with `Allow` for `OPTIONS`, otherwise 405 with the same `Allow`.
    func methodNotAllowed(
        _ method: HTTPRequest.Method,
        _ path: String,
        allowed: [String],
        _ requestId: String
    ) -> Response {
        let methods = (allowed + ["OPTIONS"]).sorted().joined(separator: ", ")
        if method == .options {
            return Response(status: .noContent, headers: [.allow: methods, .requestID: requestId])
        }
        var error = HTTPError(.methodNotAllowed, "\(path) accepts \(methods), not \(method)")
        error.headers[.allow] = methods
        return errorResponse(error, requestId)
    }

    private func reserved(path: String, method: HTTPRequest.Method) -> Response {
        switch path {
        case "/agnost/health", "/agnost/ready":
            guard method == .get || method == .head else {
                return methodNotAllowed(method, path, allowed: ["GET", "HEAD"], RequestID.make(propagating: nil))
            }
            if path == "/agnost/health" { return jsonStatus(.ok, "ok") }
            return draining.load(ordering: .relaxed)
                ? jsonStatus(.serviceUnavailable, "draining") : jsonStatus(.ok, "ready")
        default:
            return errorResponse(
                HTTPError(.notFound, "no such platform path \(path)"),
                RequestID.make(propagating: nil)
            )
        }
    }

    private func jsonStatus(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var body: [UInt8] = Array("{\"status\":".utf8)
        JSONText.appendString(text, to: &body)
        body.append(UInt8(ascii: "}"))
        return Response(status: status, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: body))
    }

    func errorResponse(_ error: HTTPError, _ requestId: String) -> Response {
        var body: [UInt8] = Array("{\"error\":".utf8)
        JSONText.appendString(error.message, to: &body)
        body.append(contentsOf: ",\"requestId\":".utf8)
        JSONText.appendString(requestId, to: &body)
        body.append(UInt8(ascii: "}"))
        var headers = error.headers
        headers[.contentType] = "application/json"
        headers[.requestID] = requestId
        return Response(status: error.status, headers: headers, body: ByteBuffer(bytes: body))
    }
}

/// One line per call of an endpoint with `logExecution: true`.
struct AccessLog: Sendable {
    let output: any LogOutput
    let renderer: LogRenderer

    func record(
        endpoint: String,
        method: HTTPRequest.Method,
        path: String,
        status: HTTPResponse.Status,
        duration: Duration,
        requestId: String
    ) {
        let line = renderer.render(
            level: .info,
            message: "request",
            fields: [
                ("endpoint", .string(endpoint)),
                ("method", .string(method.rawValue)),
                ("path", .string(path)),
                ("status", .int(status.code)),
                ("durationMs", .milliseconds(duration.milliseconds)),
                ("requestId", .string(requestId)),
            ]
        )
        output.write(line: line)
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("x-request-id")!
    static let apiKey = HTTPField.Name("x-api-key")!
}
