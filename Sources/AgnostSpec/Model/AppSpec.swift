/// One entry of `env:`.
///
/// ```swift
/// spec.env.map { "\($0.name.value)=\($0.value)" }  // ["GREETING=hello"] for `env: { GREETING: hello }`
/// ```
public struct EnvVariable: Hashable, Sendable {
    public var name: Located<String>
    public var value: String

    public init(name: Located<String>, value: String) {
        self.name = name
        self.value = value
    }
}

/// `scaling:`, the Knative autoscaling and request settings of the version's Service.
///
/// ```swift
/// ScalingSpec().timeout  // .seconds(30)
/// ```
public struct ScalingSpec: Hashable, Sendable {
    /// Minimum number of replicas; 0 lets the Service scale to zero.
    public var min: Int
    /// Maximum number of replicas; nil leaves it to the cluster.
    public var max: Int?
    /// Requests one replica serves at a time; 0 means unlimited, nil leaves it to the cluster.
    public var concurrency: Int?
    /// How long a request may take before Knative ends it.
    public var timeout: Duration
    /// Concurrent requests per replica the autoscaler aims for; nil leaves it to the cluster.
    public var target: Int?
    public var cpu: ComputeQuantities
    public var memory: ComputeQuantities

    public init(
        min: Int = 0,
        max: Int? = nil,
        concurrency: Int? = nil,
        timeout: Duration = .seconds(30),
        target: Int? = nil,
        cpu: ComputeQuantities = ComputeQuantities(),
        memory: ComputeQuantities = ComputeQuantities()
    ) {
        self.min = min
        self.max = max
        self.concurrency = concurrency
        self.timeout = timeout
        self.target = target
        self.cpu = cpu
        self.memory = memory
    }
}

/// `scaling.cpu` or `scaling.memory`: the container's resource request and limit, as Kubernetes quantities written
/// in `agnost.yaml` (`100m`, `0.5`, `128Mi`), already checked to be valid and the request not above the limit.
///
/// ```swift
/// spec.scaling.memory.limit  // "256Mi" for `memory: { limit: 256Mi }`
/// ```
public struct ComputeQuantities: Hashable, Sendable {
    public var request: String?
    public var limit: String?

    public init(request: String? = nil, limit: String? = nil) {
        self.request = request
        self.limit = limit
    }
}

/// A validated `agnost.yaml`: everything one version of an app declares.
///
/// ```swift
/// let result = SpecChecker.check(source: yaml, file: "agnost.yaml")
/// if let spec = result.spec {
///     spec.serviceName                    // "todo-v1"
///     spec.endpoint(named: "getTodo")?.path.raw  // "/todos/:id"
/// }
/// ```
public struct AppSpec: Hashable, Sendable {
    public var app: String
    public var version: String
    /// The image repository deploy pushes to, like `registry.example.com/team/todo`, optionally with a tag; never
    /// a digest, which deploying pins to the pushed image.
    public var image: String?
    public var endpoints: [EndpointSpec]
    public var middlewares: [MiddlewareSpec]
    public var queues: [QueueSpec]
    public var cronJobs: [CronJobSpec]
    public var resources: [ResourceSpec]
    /// In file order.
    public var env: [EnvVariable]
    public var scaling: ScalingSpec

    public init(
        app: String,
        version: String,
        image: String? = nil,
        endpoints: [EndpointSpec] = [],
        middlewares: [MiddlewareSpec] = [],
        queues: [QueueSpec] = [],
        cronJobs: [CronJobSpec] = [],
        resources: [ResourceSpec] = [],
        env: [EnvVariable] = [],
        scaling: ScalingSpec = ScalingSpec()
    ) {
        self.app = app
        self.version = version
        self.image = image
        self.endpoints = endpoints
        self.middlewares = middlewares
        self.queues = queues
        self.cronJobs = cronJobs
        self.resources = resources
        self.env = env
        self.scaling = scaling
    }

    /// The name of the version's Knative Service.
    public var serviceName: String { "\(app)-\(version)" }

    /// The endpoint called `name`, if there is one.
    public func endpoint(named name: String) -> EndpointSpec? {
        endpoints.first { $0.name.value == name }
    }

    /// How long `endpoint` may run: its own timeout, or else the version's `scaling.timeout`.
    public func effectiveTimeout(of endpoint: EndpointSpec) -> Duration {
        endpoint.timeout ?? scaling.timeout
    }
}
