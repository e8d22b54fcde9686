/// The kinds of named list items in agnost.yaml, as messages call them.
enum ItemKind: String, CaseIterable {
    case endpoint
    case middleware
    case queue
    case cronJob = "cron job"
    case resource
}

/// What decoding produced: the model's parts, plus the positions and raw facts that validation needs and the
/// public model does not carry.
struct DecodedSpec {
    /// Where the top-level mapping starts.
    var location: SourceLocation
    var app: Located<String>?
    var version: Located<String>?
    var image: Located<String>?
    var endpoints: [DecodedEndpoint] = []
    var middlewares: [MiddlewareSpec] = []
    var queues: [QueueSpec] = []
    var cronJobs: [CronJobSpec] = []
    var resources: [ResourceSpec] = []
    var env: [EnvVariable] = []
    var scaling = ScalingSpec()
    /// The valid names of all items of each kind, including items dropped for other errors, so that one mistake
    /// in a middleware does not also make every endpoint that uses it "undefined".
    var names: [ItemKind: [Located<String>]] = [:]
    /// The middlewares each endpoint item lists, including endpoints dropped for other errors.
    var middlewareReferences: [[Located<String>]] = []
    /// Whether any endpoint, queue or cron job is declared at all, valid or not.
    var declaresWork = false

    /// The public model; nil when `app` or `version` did not decode (which is always an error).
    var appSpec: AppSpec? {
        guard let app, let version else { return nil }
        return AppSpec(
            app: app.value,
            version: version.value,
            image: image?.value,
            endpoints: endpoints.map(\.spec),
            middlewares: middlewares,
            queues: queues,
            cronJobs: cronJobs,
            resources: resources,
            env: env,
            scaling: scaling
        )
    }
}

struct DecodedEndpoint {
    var spec: EndpointSpec
    var pathLocation: SourceLocation
    var timeoutLocation: SourceLocation?
}
