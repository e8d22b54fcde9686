/// A function that answers an HTTP endpoint.
///
/// ```swift
/// public func getTodo(_ request: Request, _ context: Context) async throws -> Response {
///     let id = try context.parameters.require("id")
///     return try .json(store.todo(id))
/// }
/// ```
public typealias EndpointHandler = @Sendable (Request, Context) async throws -> Response

/// A function that wraps the endpoints it is attached to; call `next` to continue the chain, or return early.
///
/// ```swift
/// public func requireUser(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
///     guard request.headers[.authorization] != nil else { throw HTTPError(.unauthorized, "sign in first") }
///     return try await next(request, context)
/// }
/// ```
public typealias MiddlewareHandler = @Sendable (Request, Context, Next) async throws -> Response

/// A function that receives the messages of a queue.
public typealias QueueHandler = @Sendable (QueueMessage, Context) async throws -> Void

/// A function that runs on a cron schedule.
public typealias CronHandler = @Sendable (CronTick, Context) async throws -> Void

/// The rest of a middleware chain: the next middleware, or finally the endpoint's handler.
public struct Next: Sendable {
    let handler: EndpointHandler

    /// Continues the chain with a (possibly changed) request and context.
    public func callAsFunction(_ request: Request, _ context: Context) async throws -> Response {
        try await handler(request, context)
    }
}

/// The handlers of one app version, by the names `agnost.yaml` gives them.
///
/// The code generated from `agnost.yaml` fills one registry and hands it to ``AgnostServer``; unit tests
/// fill one by hand for ``Application``.
///
/// ```swift
/// var handlers = HandlerRegistry()
/// handlers.register(endpoint: "getTodo", getTodo)
/// handlers.register(middleware: "requireUser", requireUser)
/// ```
public struct HandlerRegistry: Sendable {
    var endpoints: [String: EndpointHandler] = [:]
    var middlewares: [String: MiddlewareHandler] = [:]
    var queues: [String: QueueHandler] = [:]
    var cronJobs: [String: CronHandler] = [:]

    public init() {}

    public mutating func register(endpoint name: String, _ handler: @escaping EndpointHandler) {
        endpoints[name] = handler
    }

    public mutating func register(middleware name: String, _ handler: @escaping MiddlewareHandler) {
        middlewares[name] = handler
    }

    public mutating func register(queue name: String, _ handler: @escaping QueueHandler) {
        queues[name] = handler
    }

    public mutating func register(cron name: String, _ handler: @escaping CronHandler) {
        cronJobs[name] = handler
    }
}
