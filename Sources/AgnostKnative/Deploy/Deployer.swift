import AgnostBundle
import Foundation

/// Puts app versions on Knative and manages them there: apply a version's Secret and Service, prune what the
/// version no longer has, wait for its revision, and read, route, key and delete deployed versions.
///
/// Everything goes through server-side apply under the field manager `agnost-fn`, so a deploy states the whole
/// intent for the fields it owns and the API server works out the change; an unchanged deploy changes nothing,
/// not even the `resourceVersion`.
///
/// ```swift
/// let deployer = Deployer(client: KubernetesClient(access: access), namespace: access.namespace) { print($0) }
/// let result = try await deployer.deploy(bundle, image: "registry.example.com/todo@sha256:…")
/// print(result.url ?? "not ready yet")
/// ```
public struct Deployer: Sendable {
    public let client: KubernetesClient
    public let namespace: String
    private let report: @Sendable (DeployEvent) -> Void

    /// The field manager of `spec.traffic` changes made by traffic and rollback, apart from the deploy's own.
    static let trafficFieldManager = "agnost-fn-traffic"

    public init(
        client: KubernetesClient,
        namespace: String,
        report: @escaping @Sendable (DeployEvent) -> Void = { _ in }
    ) {
        self.client = client
        self.namespace = namespace
        self.report = report
    }

    /// How a deploy goes.
    public struct Options: Sendable {
        /// Send everything with `dryRun=All`: the cluster validates and answers, and keeps nothing.
        public var dryRun = false
        /// How long to wait for the revision to become ready; nil returns as soon as the objects are applied.
        public var wait: Duration? = .seconds(300)
        /// What the version's Secret should hold, given what it holds now (nil when there is none yet). By default
        /// the internal token and API keys are kept, and a new token is made for a first deploy.
        public var secret: @Sendable (VersionSecretData?) -> VersionSecretData = { existing in
            existing ?? VersionSecretData(internalToken: Deployer.newToken(), apiKeys: [])
        }
        /// The Broker in the namespace that the version's queues go through; read only when it has queues.
        public var broker = "default"

        public init(dryRun: Bool = false, wait: Duration? = .seconds(300), broker: String = "default") {
            self.dryRun = dryRun
            self.wait = wait
            self.broker = broker
        }
    }

    /// What a deploy did.
    public struct Result: Sendable {
        public var service: String
        public var revision: String
        /// The Service's URL once ready; nil when not waited for, or in a dry run.
        public var url: String?
        /// Whether the Service (template or traffic) or its Secret changed; false for an unchanged deploy.
        public var changed: Bool
        /// What the version's Secret holds now.
        public var secretData: VersionSecretData
        /// How long reading, applying and pruning took.
        public var applyElapsed: Duration
        /// How long the wait for readiness took; zero when there was none.
        public var waitElapsed: Duration = .zero
    }

    /// Applies `bundle`'s version with `image` (pinned by digest), prunes objects the version no longer has, and
    /// waits for its revision.
    public func deploy(
        _ bundle: BundleManifest,
        image: String,
        options: Options = Options()
    ) async throws(DeployError) -> Result {
        let service = bundle.serviceName
        let start = ContinuousClock.now
        let existingSecret = try await cluster(service) { () throws(KubernetesError) in
            try await client.get(type: .secret, name: service, namespace: namespace)
        }
        let secretData = options.secret(
            try existingSecret.map { json throws(DeployError) in
                try Self.secretData(json, context: "\(namespace)/\(service)")
            }
        )
        let existingService = try await cluster(service) { () throws(KubernetesError) in
            try await client.get(type: .knativeService, name: service, namespace: namespace)
        }
        // Checked before anything is written, so that a version whose queues have nowhere to go never half-deploys;
        // after the Service's read, so that a cluster without Knative at all says it lacks Serving first.
        let brokerURL = bundle.queues.isEmpty ? nil : try await brokerAddress(options.broker)
        let rendered = try render(
            bundle,
            image: image,
            secret: secretData,
            events: (options.broker, brokerURL),
            replacing: existingService
        )
        var changed = false
        var applied: AppliedObject?
        for object in rendered.objects {
            let type = Self.ownedTypes.first { $0.kind == object.kind && $0.apiVersion == object.apiVersion } ?? .secret
            let before: [UInt8]?
            switch type {
            case .secret: before = existingSecret
            case .knativeService: before = existingService
            default:
                before = try await cluster(service) { () throws(KubernetesError) in
                    try await client.get(type: type, name: object.name, namespace: namespace)
                }
            }
            let result = try await cluster(service) { () throws(KubernetesError) in
                try await client.apply(
                    object.jsonBytes(),
                    type: type,
                    name: object.name,
                    namespace: namespace,
                    dryRun: options.dryRun
                )
            }
            let outcome = Self.outcome(before: before, after: result)
            changed = changed || outcome != .unchanged
            if options.dryRun {
                report(
                    .wouldChange(
                        kind: object.kind,
                        name: object.name,
                        changes: ManifestDiff.changes(
                            from: before,
                            to: result.object,
                            hidingValues: type == .secret || type == .pingSource
                        )
                    )
                )
            } else {
                report(.applied(kind: object.kind, name: object.name, outcome: outcome))
            }
            if type == .knativeService { applied = result }
        }
        try await prune(app: bundle.app, version: bundle.version, keeping: rendered.objects, dryRun: options.dryRun)
        var result = Result(
            service: service,
            revision: rendered.revisionName,
            url: nil,
            changed: changed,
            secretData: secretData,
            applyElapsed: ContinuousClock.now - start
        )
        guard let applied, !options.dryRun, let wait = options.wait else { return result }
        let waiting = ContinuousClock.now
        result.url = try await waitUntilReady(
            service: service,
            revision: rendered.revisionName,
            applied: applied,
            timeout: wait
        )
        result.waitElapsed = ContinuousClock.now - waiting
        return result
    }

    /// The version's objects, the Service remembering which revision served before this one: the live one's
    /// latest ready revision when the template changes, else the revision it already remembered.
    private func render(
        _ bundle: BundleManifest,
        image: String,
        secret: VersionSecretData,
        events: (broker: String, url: String?),
        replacing live: [UInt8]?
    ) throws(DeployError) -> RenderedVersion {
        var options = RenderOptions(
            namespace: namespace,
            image: image,
            secret: secret,
            broker: events.broker,
            brokerURL: events.url
        )
        do throws(ManifestError) {
            var rendered = try ManifestRenderer.render(bundle, options: options)
            guard let live, let state = try? ServiceState(json: live) else { return rendered }
            options.previousRevision =
                state.templateRevisionName == rendered.revisionName
                ? state.metadata.annotations[ManifestAnnotations.previousRevision]
                : state.status.latestReadyRevisionName
            if options.previousRevision != nil {
                rendered = try ManifestRenderer.render(bundle, options: options)
            }
            return rendered
        } catch {
            throw DeployError(.render, error.description, context: bundle.serviceName, underlying: error)
        }
    }

    static func outcome(before: [UInt8]?, after: AppliedObject) -> ApplyOutcome {
        guard let before else { return .created }
        return ObjectMeta.decode(from: before)?.resourceVersion == after.metadata.resourceVersion
            ? .unchanged : .configured
    }

    // MARK: Eventing

    /// The `status.address.url` of the Broker `broker` in the namespace, where the version's queue messages go;
    /// a Broker that is missing, not ready or without an address is an error that says what the namespace needs.
    func brokerAddress(_ broker: String) async throws(DeployError) -> String {
        let context = "\(namespace)/\(broker)"
        let guide = "see knative/README.md"
        let json: [UInt8]?
        do throws(KubernetesError) {
            json = try await client.get(type: .broker, name: broker, namespace: namespace)
        } catch  where error.code == .resourceTypeMissing {
            throw DeployError(
                .broker,
                "this cluster has no Knative Eventing (\(ResourceType.broker)); queues need it and a Broker in the "
                    + "namespace, \(guide)",
                context: context,
                underlying: error
            )
        } catch {
            throw DeployError(.cluster, error.message, context: context, underlying: error)
        }
        guard let json else {
            throw DeployError(
                .broker,
                "the namespace \(namespace) has no Broker '\(broker)'; queues need one, \(guide)",
                context: context
            )
        }
        let state: BrokerState
        do throws(DecodingFailure) {
            state = try BrokerState(json: json)
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: context, underlying: error)
        }
        guard let ready = state.ready, ready.status == "True" else {
            let said = [state.ready?.reason, state.ready?.message].compactMap { $0 }.filter { !$0.isEmpty }
            throw DeployError(
                .broker,
                "the Broker '\(broker)' in namespace \(namespace) is not ready"
                    + (said.isEmpty ? " (it reports no Ready condition yet)" : " (\(said.joined(separator: ": ")))")
                    + "; queues need a ready Broker, \(guide)",
                context: context,
                reason: state.ready?.reason
            )
        }
        guard let url = state.url, !url.isEmpty else {
            throw DeployError(
                .broker,
                "the Broker '\(broker)' in namespace \(namespace) reports no address (status.address.url), so queue "
                    + "messages would have nowhere to go; \(guide)",
                context: context
            )
        }
        return url
    }

    /// The version's PingSources and Triggers as the cluster has them, with their readiness; none on a cluster
    /// without Knative Eventing.
    public func eventObjects(app: String, version: String) async throws(DeployError) -> [EventObjectState] {
        let selector = ManifestRenderer.labelSelector(app: app, version: version)
        var found: [EventObjectState] = []
        for type in [ResourceType.pingSource, .trigger] {
            let list: ObjectList
            do throws(KubernetesError) {
                list = try await client.list(type: type, namespace: namespace, labelSelector: selector)
            } catch  where error.code == .resourceTypeMissing {
                continue
            } catch {
                throw DeployError(.cluster, error.message, context: "\(namespace)/\(app)", underlying: error)
            }
            for item in list.items {
                guard let state = try? EventObjectState(json: item, kind: type.kind) else { continue }
                found.append(state)
            }
        }
        return found.sorted { ($0.kind, $0.name) < ($1.kind, $1.name) }
    }

    // MARK: Readiness

    /// Follows the Service from the apply's answer until `revision` serves, failing on `Ready=False`.
    func waitUntilReady(
        service: String,
        revision: String,
        applied: AppliedObject,
        timeout: Duration
    ) async throws(DeployError) -> String {
        let start = ContinuousClock.now
        let context = "\(namespace)/\(service)"
        var tracker = ReadinessTracker(revision: revision, generation: applied.metadata.generation ?? 1)
        let first: ServiceState
        do throws(DecodingFailure) {
            first = try ServiceState(json: applied.object)
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: context, underlying: error)
        }
        if let url = try settle(tracker.observe(first), context: context) {
            report(.ready(service: service, revision: revision, url: url, elapsed: ContinuousClock.now - start))
            return url
        }
        let outcome = await withTaskGroup(of: Swift.Result<String, DeployError>?.self) { group in
            group.addTask { [tracker] in
                var tracker = tracker
                do {
                    let events = client.watch(
                        type: .knativeService,
                        namespace: namespace,
                        name: service,
                        resourceVersion: applied.metadata.resourceVersion
                    )
                    for try await event in events {
                        let step: ReadinessTracker.Step
                        switch event.type {
                        case .deleted:
                            step = tracker.observeDeletion()
                        case .added, .modified:
                            step = tracker.observe(try ServiceState(json: event.object))
                        case .bookmark:
                            continue
                        }
                        if let url = try settle(step, context: context) { return .success(url) }
                    }
                    if Task.isCancelled { return nil }
                    return .failure(
                        DeployError(.cluster, "the watch of the Service ended before it became ready", context: context)
                    )
                } catch let error as DeployError {
                    return .failure(error)
                } catch let error as DecodingFailure {
                    return .failure(DeployError(.unexpectedObject, error.message, context: context, underlying: error))
                } catch let error as KubernetesError {
                    if Task.isCancelled { return nil }
                    return .failure(DeployError(.cluster, error.message, context: context, underlying: error))
                } catch {
                    return nil
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                if Task.isCancelled { return nil }
                return .failure(
                    DeployError(
                        .timedOut,
                        "revision \(revision) did not become ready within \(Self.format(timeout)); Knative goes on "
                            + "trying, and the Service's conditions tell how it is going",
                        context: context
                    )
                )
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        switch outcome {
        case .success(let url)?:
            report(.ready(service: service, revision: revision, url: url, elapsed: ContinuousClock.now - start))
            return url
        case .failure(let error)?:
            throw error
        case nil:
            throw DeployError(
                .cancelled,
                "stopped waiting for revision \(revision); the cluster carries on with the deploy as applied",
                context: context
            )
        }
    }

    /// The URL when `step` is the end of a successful wait, nil to go on; throws when it is a failure.
    private func settle(_ step: ReadinessTracker.Step, context: String) throws(DeployError) -> String? {
        switch step {
        case .ready(let url):
            return url
        case .failed(let reason, let message):
            throw DeployError(.notReady, "\(reason): \(message)", context: context, reason: reason)
        case .progressing(let changes):
            changes.forEach { report(.condition($0)) }
            return nil
        }
    }

    // MARK: Pruning and deletion

    /// The kinds a version may own, in the order they are pruned and deleted: whatever routes traffic or events
    /// to the Service first, the Secret it reads last.
    static let ownedTypes: [ResourceType] = [.trigger, .pingSource, .knativeService, .secret]

    /// Deletes the objects labeled for the version that are not in `keeping`.
    private func prune(
        app: String,
        version: String,
        keeping: [KubernetesObject],
        dryRun: Bool
    ) async throws(DeployError) {
        let kept = Set(keeping.map { "\($0.kind)/\($0.name)" })
        for object in try await labeledObjects(app: app, version: version)
        where !kept.contains("\(object.type.kind)/\(object.name)") {
            if !dryRun {
                _ = try await cluster("\(app)-\(version)") { () throws(KubernetesError) in
                    try await client.delete(type: object.type, name: object.name, namespace: namespace)
                }
            }
            report(.pruned(kind: object.type.kind, name: object.name, dryRun: dryRun))
        }
    }

    /// Every object in the namespace labeled as agnost-fn's for `version` of `app`, of each kind the cluster
    /// serves (a cluster without Knative Eventing has no PingSources or Triggers to look at).
    func labeledObjects(app: String, version: String?) async throws(DeployError) -> [(type: ResourceType, name: String)]
    {
        let selector = ManifestRenderer.labelSelector(app: app, version: version)
        var found: [(type: ResourceType, name: String)] = []
        for type in Self.ownedTypes {
            let list: ObjectList
            do throws(KubernetesError) {
                list = try await client.list(type: type, namespace: namespace, labelSelector: selector)
            } catch  where error.code == .resourceTypeMissing && type != .knativeService {
                continue
            } catch {
                throw DeployError(.cluster, error.message, context: "\(namespace)/\(app)", underlying: error)
            }
            for item in list.items {
                guard let metadata = ObjectMeta.decode(from: item) else { continue }
                found.append((type, metadata.name))
            }
        }
        return found
    }

    /// Deletes the version's Service, its Secret and every other object labeled for it; returns what was deleted.
    public func delete(app: String, version: String) async throws(DeployError) -> [(kind: String, name: String)] {
        var deleted: [(kind: String, name: String)] = []
        for object in try await labeledObjects(app: app, version: version) {
            let gone = try await cluster("\(app)-\(version)") { () throws(KubernetesError) in
                try await client.delete(type: object.type, name: object.name, namespace: namespace)
            }
            if gone { deleted.append((object.type.kind, object.name)) }
        }
        guard !deleted.isEmpty else {
            throw DeployError(
                .notDeployed,
                "version \(version) of \(app) is not deployed in namespace \(namespace)",
                context: "\(namespace)/\(app)-\(version)"
            )
        }
        return deleted
    }

    // MARK: Reading deployed versions

    /// The Service as the cluster has it.
    public func service(_ service: String) async throws(DeployError) -> ServiceState {
        let context = "\(namespace)/\(service)"
        guard
            let json = try await cluster(
                service,
                { () throws(KubernetesError) in
                    try await client.get(type: .knativeService, name: service, namespace: namespace)
                }
            )
        else {
            throw DeployError(
                .notDeployed,
                "Service \(service) is not deployed in namespace \(namespace)",
                context: context
            )
        }
        do throws(DecodingFailure) {
            return try ServiceState(json: json)
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: context, underlying: error)
        }
    }

    /// The Service and its revisions, newest last.
    public func state(
        of service: String
    ) async throws(DeployError) -> (service: ServiceState, revisions: [RevisionState]) {
        let state = try await self.service(service)
        let list = try await cluster(service) { () throws(KubernetesError) in
            try await client.list(
                type: .knativeRevision,
                namespace: namespace,
                labelSelector: "serving.knative.dev/service=\(service)"
            )
        }
        do throws(DecodingFailure) {
            var revisions: [RevisionState] = []
            for item in list.items { revisions.append(try RevisionState(json: item)) }
            return (state, revisions.sorted(by: RevisionState.isOlder))
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: "\(namespace)/\(service)", underlying: error)
        }
    }

    /// Every version of `app` deployed in the namespace.
    public func versions(of app: String) async throws(DeployError) -> [ServiceState] {
        let list = try await cluster(app) { () throws(KubernetesError) in
            try await client.list(
                type: .knativeService,
                namespace: namespace,
                labelSelector: ManifestRenderer.labelSelector(app: app)
            )
        }
        do throws(DecodingFailure) {
            var services: [ServiceState] = []
            for item in list.items { services.append(try ServiceState(json: item)) }
            return services.sorted { $0.metadata.name < $1.metadata.name }
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: "\(namespace)/\(app)", underlying: error)
        }
    }

    /// The Secret data of a deployed version, for its API keys.
    public func secretData(of service: String) async throws(DeployError) -> VersionSecretData? {
        let json = try await cluster(service) { () throws(KubernetesError) in
            try await client.get(type: .secret, name: service, namespace: namespace)
        }
        return try json.map { json throws(DeployError) in try Self.secretData(json, context: "\(namespace)/\(service)")
        }
    }

    /// The data of a Secret as the API server returns it.
    static func secretData(_ json: [UInt8], context: String) throws(DeployError) -> VersionSecretData {
        do throws(ManifestError) {
            return VersionSecretData(secret: try KubernetesObject(body: ManifestValue(json: json)))
        } catch {
            throw DeployError(.unexpectedObject, error.message, context: context, underlying: error)
        }
    }

    // MARK: Traffic

    /// Routes the Service's traffic as `plan` says, and waits until the Route reports it.
    public func route(
        _ service: String,
        _ plan: TrafficPlan,
        timeout: Duration? = .seconds(300)
    ) async throws(DeployError) -> [TrafficTarget] {
        let context = "\(namespace)/\(service)"
        let (state, revisions) = try await self.state(of: service)
        let targets: [TrafficTarget]
        do throws(TrafficError) {
            targets = try plan.targets(for: state, revisions: revisions)
        } catch {
            throw DeployError(.traffic, error.message, context: context, underlying: error)
        }
        let body = TrafficPatch(
            metadata: .init(name: service, namespace: namespace),
            spec: .init(traffic: targets)
        )
        let applied = try await cluster(service) { () throws(KubernetesError) in
            try await client.apply(
                Array((try? JSONEncoder().encode(body)) ?? Data()),
                type: .knativeService,
                name: service,
                namespace: namespace,
                dryRun: false,
                fieldManager: Self.trafficFieldManager
            )
        }
        report(.applied(kind: "Service", name: service, outcome: Self.outcome(before: nil, after: applied)))
        guard let timeout, let revision = state.status.latestReadyRevisionName ?? state.templateRevisionName else {
            return targets
        }
        // The template did not change, so the latest ready revision stays what it was; the wait is for the
        // controller to take in the new generation and report the Route ready again.
        _ = try await waitUntilReady(service: service, revision: revision, applied: applied, timeout: timeout)
        return targets
    }

    // MARK: Helpers

    /// Runs a Kubernetes call, turning its error into a ``DeployError`` about `service`.
    private func cluster<T>(
        _ service: String,
        _ body: () async throws(KubernetesError) -> T
    ) async throws(DeployError) -> T {
        do throws(KubernetesError) {
            return try await body()
        } catch {
            throw DeployError(.cluster, error.message, context: "\(namespace)/\(service)", underlying: error)
        }
    }

    /// 32 random bytes from the system's secure generator, as hex: the version's internal token.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }
            .joined()
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds >= 60 && seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
    }
}

/// The apply body of a traffic change: only `spec.traffic`, which the traffic field manager owns.
private struct TrafficPatch: Encodable {
    var apiVersion = "serving.knative.dev/v1"
    var kind = "Service"
    var metadata: Metadata
    var spec: Spec

    struct Metadata: Encodable {
        var name: String
        var namespace: String
    }

    struct Spec: Encodable {
        var traffic: [TrafficTarget]
    }
}
