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
/// ```swift
/// @Test func greetsByName() async throws {
///     let app = try TestApplication(endpoints: [
///         .init(.get, "/hello/:name", handler: hello, middlewares: [requireUser])
///     ])
///     let response = await app.request(.get, "/hello/ada", headers: [.authorization: "Bearer t"])
///     #expect(response.status == .ok)
///     #expect(response.bodyText == "hello, ada")
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

    private let dispatcher: Dispatcher
    private let log: CollectedLog

    /// - Parameters:
    ///   - env: the app's `env`, as in `agnost.yaml`.
    ///   - apiKeys: the accepted keys in plain text; they are hashed as `AGNOST_API_KEYS` would hold them.
    public init(
        endpoints: [Endpoint],
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
            let (seconds, attoseconds) = endpoint.timeout.components
            plans.append(
                EndpointPlan(
                    name: name,
                    method: endpoint.method.rawValue,
                    path: endpoint.path,
                    handler: name,
                    middlewares: middlewareNames,
                    timeoutMilliseconds: Int(seconds * 1000 + attoseconds / 1_000_000_000_000_000),
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
            env: env.sorted { $0.key < $1.key }.map { EnvironmentEntry(name: $0.key, value: $0.value) }
        )
        var configuration = RuntimeConfiguration()
        configuration.maxBodyBytes = maxBodyBytes
        configuration.apiKeyHashes = apiKeys.map { SHA256.hash($0.utf8) }
        try self.init(manifest: manifest, handlers: handlers, configuration: configuration)
    }

    /// Serves a built bundle's plan with the given handlers, as the server would.
    public init(
        manifest: BundleManifest,
        handlers: HandlerRegistry,
        configuration: RuntimeConfiguration = RuntimeConfiguration(),
        processEnvironment: [String: String] = [:]
    ) throws {
        let log = CollectedLog()
        self.log = log
        self.dispatcher = try Dispatcher(
            manifest: manifest,
            handlers: handlers,
            configuration: configuration,
            processEnvironment: processEnvironment,
            logOutput: log,
            timers: MultiThreadedEventLoopGroup.singleton
        )
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
