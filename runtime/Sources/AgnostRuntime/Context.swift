public import Logging

/// What a handler knows about the call it is serving, beyond the request itself.
///
/// ```swift
/// context.logger.info("loading todo")            // tagged with the request id
/// let id = try context.parameters.require("id", as: Int.self)
/// let greeting = context.env["GREETING"] ?? "hello"
/// if ContinuousClock.now > context.deadline { … }
/// try await context.queue("emails").send(Email(to: "ada@example.com"))
/// let db = try context.resources.require("maindb")
/// ```
public struct Context: Sendable {
    /// Tagged with `requestId` and the endpoint name.
    ///
    /// Tagged on first use: most requests never log, and metadata costs allocations.
    public var logger: Logger {
        get {
            if let taggedLogger { return taggedLogger }
            var logger = baseLogger
            logger[metadataKey: "requestId"] = .string(requestId)
            logger[metadataKey: "endpoint"] = .string(endpoint)
            return logger
        }
        set { taggedLogger = newValue }
    }
    /// The caller's `X-Request-Id`, or a generated one; also sent back on the response. For a queue message or
    /// a cron tick, the event's id, so that its log lines tie to the event.
    public let requestId: String
    /// The `name` of the endpoint (or queue, or cron job) in `agnost.yaml`.
    public let endpoint: String
    /// When the endpoint's timeout runs out; the handler is cancelled then.
    public let deadline: ContinuousClock.Instant
    /// The `:name` segments of the matched path, percent-decoded.
    public let parameters: PathParameters
    /// The app's `env` from `agnost.yaml`; a process environment variable of the same name wins.
    public let env: AppEnvironment
    /// The connection settings of the resources `agnost.yaml` declares.
    public let resources: LinkedResources

    private let baseLogger: Logger
    private var taggedLogger: Logger?
    private let sending: QueueSending

    package init(
        logger: Logger,
        requestId: String,
        endpoint: String,
        deadline: ContinuousClock.Instant,
        parameters: PathParameters,
        env: AppEnvironment,
        resources: LinkedResources,
        sending: QueueSending
    ) {
        self.sending = sending
        self.baseLogger = logger
        self.requestId = requestId
        self.endpoint = endpoint
        self.deadline = deadline
        self.parameters = parameters
        self.env = env
        self.resources = resources
    }

    /// The queue `name` of `agnost.yaml`, to send messages to.
    ///
    /// ```swift
    /// try await context.queue("emails").send(Email(to: "ada@example.com"), delay: .seconds(10))
    /// ```
    public func queue(_ name: String) -> QueueSender {
        QueueSender(queue: name, sending: sending)
    }
}

/// The path parameters of a matched route.
public struct PathParameters: Sendable, Equatable {
    private let names: [String]
    private let values: [String]

    package init(names: [String], values: [String]) {
        self.names = names
        self.values = values
    }

    /// The value of `:name`, or `nil` if the route has no such parameter.
    public subscript(name: String) -> String? {
        names.firstIndex(of: name).map { values[$0] }
    }

    /// The value of `:name`; a route without it is a programming error reported as 500.
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = self[name] else {
            throw HTTPError(.internalServerError, "the route has no parameter '\(name)'")
        }
        return value
    }

    /// The value of `:name` converted, or 400 naming the parameter when it does not convert.
    ///
    /// ```swift
    /// let id = try context.parameters.require("id", as: Int.self)   // "/todos/x" → 400
    /// ```
    public func require<Value: LosslessStringConvertible>(
        _ name: String,
        as type: Value.Type
    ) throws(HTTPError) -> Value {
        let text = try require(name)
        guard let value = Value(text) else {
            throw HTTPError(.badRequest, "path parameter '\(name)' must be a \(Value.self), got '\(text)'")
        }
        return value
    }
}

/// The app's environment: `env` of `agnost.yaml`, overridden by the process environment for the same names.
public struct AppEnvironment: Sendable, Equatable {
    private let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public subscript(name: String) -> String? { values[name] }
}
