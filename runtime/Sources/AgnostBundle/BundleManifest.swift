/// The contents of `bundle.json`: the resolved plan of one app version, written by the compiler next to the
/// `server` binary and read by the runtime at start-up.
///
/// It is the only contract between the toolchain and the runtime, so both sides share this one definition.
/// Durations are whole milliseconds so that the file is plain, stable JSON.
///
/// ```swift
/// let manifest = try JSONDecoder().decode(BundleManifest.self, from: bytes)
/// for endpoint in manifest.endpoints { print(endpoint.method, endpoint.path) }
/// ```
public struct BundleManifest: Codable, Sendable, Hashable {
    /// Bumped whenever a field changes meaning; the runtime refuses bundles of another schema.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var app: String
    public var version: String
    /// `sha256:<hex>` of the `agnost.yaml` bytes the bundle was built from.
    public var specDigest: String
    public var build: BuildInfo
    public var endpoints: [EndpointPlan]
    public var queues: [QueuePlan]
    public var cronJobs: [CronJobPlan]
    public var resources: [ResourcePlan]
    /// The app's `env`, in file order.
    public var env: [EnvironmentEntry]
    public var scaling: ScalingPlan

    public init(
        schemaVersion: Int = BundleManifest.currentSchemaVersion,
        app: String,
        version: String,
        specDigest: String,
        build: BuildInfo,
        endpoints: [EndpointPlan],
        queues: [QueuePlan] = [],
        cronJobs: [CronJobPlan] = [],
        resources: [ResourcePlan] = [],
        env: [EnvironmentEntry] = [],
        scaling: ScalingPlan = ScalingPlan()
    ) {
        self.schemaVersion = schemaVersion
        self.app = app
        self.version = version
        self.specDigest = specDigest
        self.build = build
        self.endpoints = endpoints
        self.queues = queues
        self.cronJobs = cronJobs
        self.resources = resources
        self.env = env
        self.scaling = scaling
    }

    /// The Knative Service name, `<app>-<version>`.
    public var serviceName: String { "\(app)-\(version)" }
}

/// How and from what the bundle was built.
public struct BuildInfo: Codable, Sendable, Hashable {
    /// `debug` or `release`.
    public var configuration: String
    /// The first line of `swift --version`.
    public var toolchain: String
    /// `sha256:<hex>` over every input of the build; equal digests mean the bundle is up to date.
    public var inputDigest: String

    public init(configuration: String, toolchain: String, inputDigest: String) {
        self.configuration = configuration
        self.toolchain = toolchain
        self.inputDigest = inputDigest
    }
}

/// One HTTP endpoint with its middleware chain resolved to handler names.
public struct EndpointPlan: Codable, Sendable, Hashable {
    public var name: String
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    public var method: String
    /// The route, with `:name` parameter segments.
    public var path: String
    /// The Swift function registered under this name.
    public var handler: String
    /// Middleware handler names, outermost first.
    public var middlewares: [String]
    public var timeoutMilliseconds: Int
    public var requiresAPIKey: Bool
    public var logExecution: Bool

    public init(
        name: String,
        method: String,
        path: String,
        handler: String,
        middlewares: [String] = [],
        timeoutMilliseconds: Int,
        requiresAPIKey: Bool = false,
        logExecution: Bool = false
    ) {
        self.name = name
        self.method = method
        self.path = path
        self.handler = handler
        self.middlewares = middlewares
        self.timeoutMilliseconds = timeoutMilliseconds
        self.requiresAPIKey = requiresAPIKey
        self.logExecution = logExecution
    }
}

/// A message queue and the handler its deliveries go to.
public struct QueuePlan: Codable, Sendable, Hashable {
    public var name: String
    public var handler: String
    /// Redeliveries after a failed delivery, then the message is dead-lettered.
    public var retries: Int
    /// The delay before a message's first delivery, unless its sender names one.
    public var delayMilliseconds: Int
    /// How long one delivery may run before it is answered 504 and retried.
    public var timeoutMilliseconds: Int
    /// The queue that receives this queue's dead letters; nil keeps them aside.
    public var deadLetter: String?

    public init(
        name: String,
        handler: String,
        retries: Int,
        delayMilliseconds: Int,
        timeoutMilliseconds: Int = 30_000,
        deadLetter: String? = nil
    ) {
        self.name = name
        self.handler = handler
        self.retries = retries
        self.delayMilliseconds = delayMilliseconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.deadLetter = deadLetter
    }
}

/// A scheduled job.
public struct CronJobPlan: Codable, Sendable, Hashable {
    public var name: String
    public var schedule: String
    public var timezone: String
    public var handler: String
    public var enabled: Bool
    /// How long one run may take before it is answered 504.
    public var timeoutMilliseconds: Int

    public init(
        name: String,
        schedule: String,
        timezone: String,
        handler: String,
        enabled: Bool,
        timeoutMilliseconds: Int = 30_000
    ) {
        self.name = name
        self.schedule = schedule
        self.timezone = timezone
        self.handler = handler
        self.enabled = enabled
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// A linked resource; its connection settings reach the process as environment variables at deploy time.
public struct ResourcePlan: Codable, Sendable, Hashable {
    public var name: String
    public var type: String

    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}

/// One `env` entry of `agnost.yaml`.
public struct EnvironmentEntry: Codable, Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Autoscaling and request limits of the Service.
///
/// The optional fields are absent from `bundle.json` when `agnost.yaml` does not set them, so older files still
/// decode and unchanged projects keep their bytes.
public struct ScalingPlan: Codable, Sendable, Hashable {
    public var minScale: Int
    public var maxScale: Int?
    public var containerConcurrency: Int?
    public var timeoutMilliseconds: Int
    /// Knative's `autoscaling.knative.dev/target`: concurrent requests per replica the autoscaler aims for.
    public var target: Int?
    /// Kubernetes quantities as written in `agnost.yaml`, such as `100m`, `0.5` or `128Mi`.
    public var cpuRequest: String?
    public var cpuLimit: String?
    public var memoryRequest: String?
    public var memoryLimit: String?

    public init(
        minScale: Int = 0,
        maxScale: Int? = nil,
        containerConcurrency: Int? = nil,
        timeoutMilliseconds: Int = 30_000,
        target: Int? = nil,
        cpuRequest: String? = nil,
        cpuLimit: String? = nil,
        memoryRequest: String? = nil,
        memoryLimit: String? = nil
    ) {
        self.minScale = minScale
        self.maxScale = maxScale
        self.containerConcurrency = containerConcurrency
        self.timeoutMilliseconds = timeoutMilliseconds
        self.target = target
        self.cpuRequest = cpuRequest
        self.cpuLimit = cpuLimit
        self.memoryRequest = memoryRequest
        self.memoryLimit = memoryLimit
    }
}
