/// The HTTP methods an endpoint may answer.
///
/// ```swift
/// HTTPMethod(rawValue: "GET")  // .GET; agnost.yaml spells methods in capitals
/// ```
public enum HTTPMethod: String, CaseIterable, Sendable, Hashable {
    // The cases are spelled as in HTTP and in agnost.yaml, where the raw values come from.
    // swift-format-ignore: AlwaysUseLowerCamelCase
    case GET, POST, PUT, PATCH, DELETE
}

/// Whether callers of an endpoint must present one of the version's API keys.
///
/// ```swift
/// APIKeyPolicy(rawValue: "required")  // .required, from `apiKey: required`
/// ```
public enum APIKeyPolicy: String, CaseIterable, Sendable, Hashable {
    case required, none
}

/// One entry of `endpoints:`: an HTTP route and the handler that serves it.
///
/// ```swift
/// let spec = SpecChecker.check(source: yaml, file: "agnost.yaml").spec
/// let endpoint = spec?.endpoint(named: "getTodo")
/// endpoint?.path.raw               // "/todos/:id"
/// endpoint?.handler.location.line  // the line that names the handler, for #sourceLocation
/// ```
public struct EndpointSpec: Hashable, Sendable {
    public var name: Located<String>
    public var method: HTTPMethod
    public var path: RoutePath
    /// The handler function; its location is the first character of the name itself (after an opening quote).
    public var handler: Located<String>
    /// Names of the middlewares to run, in order, before the handler.
    public var middlewares: [Located<String>]
    /// nil means the version's `scaling.timeout`; see ``AppSpec/effectiveTimeout(of:)``.
    public var timeout: Duration?
    public var apiKey: APIKeyPolicy
    public var logExecution: Bool
    /// Where the endpoint's list item starts.
    public var location: SourceLocation

    public init(
        name: Located<String>,
        method: HTTPMethod,
        path: RoutePath,
        handler: Located<String>,
        middlewares: [Located<String>] = [],
        timeout: Duration? = nil,
        apiKey: APIKeyPolicy = .none,
        logExecution: Bool = false,
        location: SourceLocation
    ) {
        self.name = name
        self.method = method
        self.path = path
        self.handler = handler
        self.middlewares = middlewares
        self.timeout = timeout
        self.apiKey = apiKey
        self.logExecution = logExecution
        self.location = location
    }
}

/// One entry of `middlewares:`: a handler that endpoints can run before their own.
///
/// ```swift
/// let auth = spec.middlewares.first { $0.name.value == "auth" }
/// auth?.handler.value  // "requireUser"
/// ```
public struct MiddlewareSpec: Hashable, Sendable {
    public var name: Located<String>
    public var handler: Located<String>
    /// Where the middleware's list item starts.
    public var location: SourceLocation

    public init(name: Located<String>, handler: Located<String>, location: SourceLocation) {
        self.name = name
        self.handler = handler
        self.location = location
    }
}
