import AgnostBundle
import AgnostSpec

/// The kinds of handler `agnost.yaml` names, each with its own Swift signature.
public enum HandlerKind: String, Sendable, CaseIterable {
    case endpoint
    case middleware
    case queue
    case cron

    /// The runtime's type for this kind, which the generated code converts each handler to.
    var runtimeType: String {
        switch self {
        case .endpoint: "EndpointHandler"
        case .middleware: "MiddlewareHandler"
        case .queue: "QueueHandler"
        case .cron: "CronHandler"
        }
    }
}

/// One Swift function the generated server must register, at the `agnost.yaml` position that names it first.
public struct HandlerRegistration: Sendable, Hashable {
    public var kind: HandlerKind
    /// The Swift function, as written in `agnost.yaml` (possibly `Module.function`).
    public var function: String
    public var location: SourceLocation
}

/// What one app version compiles to: the runtime's plan (`bundle.json` without build facts) and the handlers
/// the generated code registers.
public struct BuildPlan: Sendable, Hashable {
    public var manifest: BundleManifest
    /// In `agnost.yaml` order, one per distinct (kind, function).
    public var registrations: [HandlerRegistration]

    /// The plan stage: resolves defaults and middleware chains from a checked spec.
    ///
    /// ```swift
    /// let plan = BuildPlan(spec: spec, specDigest: "sha256:…")
    /// ```
    public init(spec: AppSpec, specDigest: String) {
        let middlewareHandlers = Dictionary(
            spec.middlewares.map { ($0.name.value, $0.handler.value) },
            uniquingKeysWith: { first, _ in first }
        )
        let endpoints = spec.endpoints.map { endpoint in
            EndpointPlan(
                name: endpoint.name.value,
                method: endpoint.method.rawValue,
                path: endpoint.path.raw,
                handler: endpoint.handler.value,
                middlewares: endpoint.middlewares.compactMap { middlewareHandlers[$0.value] },
                timeoutMilliseconds: spec.effectiveTimeout(of: endpoint).wholeMilliseconds,
                requiresAPIKey: endpoint.apiKey == .required,
                logExecution: endpoint.logExecution
            )
        }
        manifest = BundleManifest(
            app: spec.app,
            version: spec.version,
            specDigest: specDigest,
            build: BuildInfo(configuration: "", toolchain: "", inputDigest: ""),
            endpoints: endpoints,
            queues: spec.queues.map {
                QueuePlan(
                    name: $0.name.value,
                    handler: $0.handler.value,
                    retries: $0.retries,
                    delayMilliseconds: $0.delay.wholeMilliseconds,
                    timeoutMilliseconds: ($0.timeout ?? spec.scaling.timeout).wholeMilliseconds,
                    deadLetter: $0.deadLetter?.value
                )
            },
            cronJobs: spec.cronJobs.map {
                CronJobPlan(
                    name: $0.name.value,
                    schedule: $0.schedule.text,
                    timezone: $0.timezone,
                    handler: $0.handler.value,
                    enabled: $0.enabled,
                    timeoutMilliseconds: ($0.timeout ?? spec.scaling.timeout).wholeMilliseconds
                )
            },
            resources: spec.resources.map { ResourcePlan(name: $0.name.value, type: $0.type.rawValue) },
            env: spec.env.map { EnvironmentEntry(name: $0.name.value, value: $0.value) },
            scaling: ScalingPlan(
                minScale: spec.scaling.min,
                maxScale: spec.scaling.max,
                containerConcurrency: spec.scaling.concurrency,
                timeoutMilliseconds: spec.scaling.timeout.wholeMilliseconds,
                target: spec.scaling.target,
                cpuRequest: spec.scaling.cpu.request,
                cpuLimit: spec.scaling.cpu.limit,
                memoryRequest: spec.scaling.memory.request,
                memoryLimit: spec.scaling.memory.limit
            )
        )
        let named: [(HandlerKind, Located<String>)] =
            spec.endpoints.map { (.endpoint, $0.handler) } + spec.middlewares.map { (.middleware, $0.handler) }
            + spec.queues.map { (.queue, $0.handler) } + spec.cronJobs.map { (.cron, $0.handler) }
        var seen = Set<String>()
        registrations = named.sorted { $0.1.location < $1.1.location }.compactMap { kind, handler in
            guard seen.insert("\(kind.rawValue) \(handler.value)").inserted else { return nil }
            return HandlerRegistration(kind: kind, function: handler.value, location: handler.location)
        }
    }
}

extension Duration {
    var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
