public import AgnostBundle
import AgnostDigest
public import AgnostRuntime
import NIOPosix
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Calls a function's endpoints in-process, through the same routing, middleware, API-key, body-limit,
/// timeout and error handling as the server, without opening a socket.
///
/// Queue messages and cron ticks go through the server's own CloudEvents path too, with the sender's token
/// supplied; what handlers send to queues stays in memory, in ``sentMessages``, instead of going to a broker.
///
/// ```swift
/// @Test func greetsByName() async throws {
///     let app = try TestApplication(endpoints: [
///         .init(.get, "/hello/:name", handler: hello, middlewares: [requireUser])
///     ])
///     let response = await app.request(.get, "/hello/ada", headers: [.authorization: "Bearer t"])
///     #expect(response.status == .ok)
///     #expect(response.bodyText == "hello, ada")
/// }
///
/// @Test func signupQueuesAWelcomeEmail() async throws {
///     let app = try TestApplication(
///         endpoints: [.init(.post, "/signup", handler: signup)],
///         queues: [.init("emails", handler: sendEmail)]
///     )
///     _ = await app.request(.post, "/signup", json: #"{"email":"ada@example.com"}"#)
///     #expect(app.sentMessages.map(\.queue) == ["emails"])
///     #expect(await app.deliverSentMessages().map(\.status) == [.ok])
/// }
/// ```
public struct TestApplication: Sendable {
    /// One endpoint as `agnost.yaml` would declare it, with the handler functions themselves.
    public struct Endpoint: Sendable {
        public var method: HTTPRequest.Method
        public var path: String
        public var handler: EndpointHandler
        public var middlewares: [MiddlewareHandler]
        public var timeout: Duration
        public var requiresAPIKey: Bool
        public var logExecution: Bool

        public init(
            _ method: HTTPRequest.Method,
            _ path: String,
            handler: @escaping EndpointHandler,
            middlewares: [MiddlewareHandler] = [],
            timeout: Duration = .seconds(30),
            requiresAPIKey: Bool = false,
            logExecution: Bool = false
        ) {
            self.method = method
            self.path = path
            self.handler = handler
            self.middlewares = middlewares
            self.timeout = timeout
            self.requiresAPIKey = requiresAPIKey
            self.logExecution = logExecution
        }
    }

    /// A queue as `agnost.yaml` would declare it, with its handler function.
    public struct Queue: Sendable {
        public var name: String
        public var handler: QueueHandler
        public var timeout: Duration

        public init(_ name: String, handler: @escaping QueueHandler, timeout: Duration = .seconds(30)) {
            self.name = name
            self.handler = handler
            self.timeout = timeout
        }
    }

    /// A cron job as `agnost.yaml` would declare it, with its handler function.
    public struct CronJob: Sendable {
        public var name: String
        public var schedule: String
        public var handler: CronHandler
        public var timeout: Duration

        public init(
            _ name: String,
            schedule: String = "* * * * *",
            handler: @escaping CronHandler,
            timeout: Duration = .seconds(30)
        ) {
            self.name = name
            self.schedule = schedule
            self.handler = handler
            self.timeout = timeout
        }
    }

    private let dispatcher: Dispatcher
    private let log: CollectedLog
    private let outbox: InMemoryOutbox
    /// The version's internal token, random per application unless the configuration names one.
    private let internalToken: String

    /// - Parameters:
    ///   - env: the app's `env`, as in `agnost.yaml`.
    ///   - apiKeys: the accepted keys in plain text; they are hashed as `AGNOST_API_KEYS` would hold them.
    public init(
        endpoints: [Endpoint],
        queues: [Queue] = [],
        cronJobs: [CronJob] = [],
        env: [String: String] = [:],
        apiKeys: [String] = [],
        maxBodyBytes: Int = 1 << 20
    ) throws {
        var handlers = HandlerRegistry()
        var plans: [EndpointPlan] = []
        for (index, endpoint) in endpoints.enumerated() {
            let name = "endpoint\(index)"
            handlers.register(endpoint: name, endpoint.handler)
            var middlewareNames: [String] = []
            for (position, middleware) in endpoint.middlewares.enumerated() {
                let middlewareName = "\(name).middleware\(position)"
                handlers.register(middleware: middlewareName, middleware)
                middlewareNames.append(middlewareName)
            }
            plans.append(
                EndpointPlan(
                    name: name,
                    method: endpoint.method.rawValue,
                    path: endpoint.path,
                    handler: name,
                    middlewares: middlewareNames,
                    timeoutMilliseconds: Self.milliseconds(endpoint.timeout),
                    requiresAPIKey: endpoint.requiresAPIKey,
                    logExecution: endpoint.logExecution
                )
            )
        }
        let manifest = BundleManifest(
            app: "test",
            version: "v1",
            specDigest: "",
            build: BuildInfo(configuration: "debug", toolchain: "", inputDigest: ""),
            endpoints: plans,
            queues: queues.map {
                QueuePlan(
                    name: $0.name,
                    handler: "queue.\($0.name)",
                    retries: 0,
                    delayMilliseconds: 0,
                    timeoutMilliseconds: Self.milliseconds($0.timeout)
                )
            },
            cronJobs: cronJobs.map {
                CronJobPlan(
                    name: $0.name,
                    schedule: $0.schedule,
                    timezone: "UTC",
                    handler: "cron.\($0.name)",
                    enabled: true,
                    timeoutMilliseconds: Self.milliseconds($0.timeout)
                )
            },
            env: env.sorted { $0.key < $1.key }.map { EnvironmentEntry(name: $0.key, value: $0.value) }
        )
        for queue in queues { handlers.register(queue: "queue.\(queue.name)", queue.handler) }
        for job in cronJobs { handlers.register(cron: "cron.\(job.name)", job.handler) }
        var configuration = RuntimeConfiguration()
        configuration.maxBodyBytes = maxBodyBytes
        configuration.apiKeyHashes = apiKeys.map { SHA256.hash($0.utf8) }
        try self.init(manifest: manifest, handlers: handlers, configuration: configuration)
    }

    /// Serves a built bundle's plan with the given handlers, as the server would.
    ///
    /// Without an internal token in `configuration`, a random one is used, so that ``deliver(queue:body:contentType:id:attempt:time:)`` and
    /// ``fire(cron:at:)`` are authenticated as the platform's senders would be.
    public init(
        manifest: BundleManifest,
        handlers: HandlerRegistry,
        configuration: RuntimeConfiguration = RuntimeConfiguration(),
        processEnvironment: [String: String] = [:]
    ) throws {
        let log = CollectedLog()
        self.log = log
        let outbox = InMemoryOutbox()
        self.outbox = outbox
        var configuration = configuration
        let token = configuration.internalToken ?? InternalToken(RequestID.random())
        configuration.internalToken = token
        self.internalToken = token.value
        self.dispatcher = try Dispatcher(
            manifest: manifest,
            handlers: handlers,
            configuration: configuration,
            processEnvironment: processEnvironment,
            logOutput: log,
            timers: MultiThreadedEventLoopGroup.singleton,
            outbox: outbox
        )
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// Sends one request; `target` is a path with an optional query, such as `/todos/1?verbose=true`.
    public func request(
        _ method: HTTPRequest.Method,
        _ target: String,
        headers: HTTPFields = [:],
        body: ByteBuffer = ByteBuffer()
    ) async -> Response {
        await dispatcher.respond(method: method, target: target, headers: headers, body: body)
    }

    /// Sends a JSON body with `Content-Type: application/json`.
    public func request(
        _ method: HTTPRequest.Method,
        _ target: String,
        headers: HTTPFields = [:],
        json: String
    ) async -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return await request(method, target, headers: headers, body: ByteBuffer(string: json))
    }

    /// Delivers one queue message as the broker would: a binary-mode CloudEvent to `/agnost/queue/<queue>` with
    /// the queue sender's token. The response is what the broker would see: 200, or the status it retries or
    /// dead-letters on.
    ///
    /// ```swift
    /// let response = await app.deliver(queue: "emails", body: ByteBuffer(string: #"{"to":"ada@example.com"}"#))
    /// #expect(response.status == .ok)
    /// ```
    public func deliver(
        queue: String,
        body: ByteBuffer,
        contentType: String = "application/json",
        id: String? = nil,
        attempt: Int? = 1,
        time: Date = Date()
    ) async -> Response {
        var headers = eventHeaders(
            id: id ?? RequestID.random(),
            type: EventContract.queueMessageType,
            source: "/agnost/test",
            time: time
        )
        headers[.contentType] = contentType
        headers[HTTPField.Name("ce-" + EventContract.Extension.queue)!] = queue
        if let attempt {
            headers[HTTPField.Name("ce-" + EventContract.Extension.attempt)!] = String(attempt)
        }
        headers[.authorization] = "Bearer " + SenderToken.derive(from: internalToken, for: .queue)
        return await dispatcher.respond(
            method: .post,
            target: EventContract.queuePath(queue),
            headers: headers,
            body: body
        )
    }

    /// Fires a cron job as the scheduler would, with `time` as the tick's ``CronTick/scheduledTime``.
    ///
    /// ```swift
    /// #expect(await app.fire(cron: "cleanup").status == .ok)
    /// ```
    public func fire(cron job: String, at time: Date = Date()) async -> Response {
        var headers = eventHeaders(
            id: RequestID.random(),
            type: EventContract.cronTickType,
            source: EventContract.pingSourceSource(namespace: "test", name: job),
            time: time
        )
        headers[.authorization] = "Bearer " + SenderToken.derive(from: internalToken, for: .cron)
        return await dispatcher.respond(
            method: .post,
            target: EventContract.cronPath(job),
            headers: headers,
            body: ByteBuffer()
        )
    }

    /// What handlers have sent to queues so far, oldest first.
    public var sentMessages: [SentMessage] { outbox.messages }

    /// Delivers every message sent so far to its queue's handler, in order, and forgets them; messages the
    /// deliveries send in turn are delivered too. Returns each delivery's response.
    public func deliverSentMessages() async -> [Response] {
        var responses: [Response] = []
        while let message = outbox.takeFirst() {
            responses.append(
                await deliver(
                    queue: message.queue,
                    body: message.body,
                    contentType: message.contentType,
                    id: message.id
                )
            )
        }
        return responses
    }

    private func eventHeaders(id: String, type: String, source: String, time: Date) -> HTTPFields {
        [
            HTTPField.Name("ce-specversion")!: "1.0",
            HTTPField.Name("ce-id")!: id,
            HTTPField.Name("ce-source")!: source,
            HTTPField.Name("ce-type")!: type,
            HTTPField.Name("ce-time")!: RFC3339.format(time),
        ]
    }

    /// Every log line written so far (handler logs and access lines), without the trailing newline.
    public var logLines: [String] { log.lines }
}

extension Response {
    /// The body as UTF-8 text.
    public var bodyText: String { String(buffer: body) }

    /// The body decoded from JSON.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
}

/// Keeps log lines in memory for assertions.
private final class CollectedLog: LogOutput {
    private let storage = Mutex<[String]>([])

    func write(line: [UInt8]) {
        let text = String(decoding: line.dropLast(line.last == UInt8(ascii: "\n") ? 1 : 0), as: UTF8.self)
        storage.withLock { $0.append(text) }
    }

    var lines: [String] { storage.withLock { $0 } }
}

/// A queue message a handler sent during a test.
public struct SentMessage: Sendable {
    public let queue: String
    public let id: String
    public let body: ByteBuffer
    public let contentType: String
    /// Set when the sender asked for a delay.
    public let notBefore: Date?

    /// The body as UTF-8 text.
    public var text: String { String(buffer: body) }

    /// The body decoded from JSON.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
}

/// Keeps sent messages in memory instead of posting them to a broker.
private final class InMemoryOutbox: QueueOutbox {
    private let storage = Mutex<[SentMessage]>([])

    func post(_ message: OutgoingMessage) async throws(QueueSendError) {
        let sent = SentMessage(
            queue: message.queue,
            id: message.id,
            body: message.body,
            contentType: message.contentType,
            notBefore: message.notBefore
        )
        storage.withLock { $0.append(sent) }
    }

    var messages: [SentMessage] { storage.withLock { $0 } }

    func takeFirst() -> SentMessage? {
        storage.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }
}
