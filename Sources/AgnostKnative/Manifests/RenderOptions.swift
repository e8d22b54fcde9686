/// What a render needs beyond `bundle.json`: where the objects go, the pushed image, and the Secret's contents.
///
/// ```swift
/// let options = RenderOptions(
///     namespace: "default",
///     image: "localhost:5000/todo@sha256:\(hex)",
///     secret: VersionSecretData(internalToken: token)
/// )
/// ```
public struct RenderOptions: Hashable, Sendable {
    public var namespace: String
    /// The pushed image pinned by digest, `REF@sha256:…`; a reference without a digest is refused by the renderer.
    public var image: String
    public var secret: VersionSecretData
    /// The revision that served before this render's, kept on the Service for a rollback to return to; nil for
    /// none (a first deploy, or a render without a cluster).
    public var previousRevision: String?
    /// The Broker in the namespace whose Triggers deliver the version's queues.
    public var broker: String
    /// Where the version sends queue messages (`AGNOST_BROKER_URL`): the Broker's `status.address.url`; nil
    /// assumes the address Knative's default Broker class gives it, for a render without a cluster.
    public var brokerURL: String?

    public init(
        namespace: String,
        image: String,
        secret: VersionSecretData,
        previousRevision: String? = nil,
        broker: String = "default",
        brokerURL: String? = nil
    ) {
        self.namespace = namespace
        self.image = image
        self.secret = secret
        self.previousRevision = previousRevision
        self.broker = broker
        self.brokerURL = brokerURL
    }
}

/// The objects of one deployed version, as the deployer applies them.
///
/// ```swift
/// let rendered = try ManifestRenderer.render(bundle, options: options)
/// rendered.revisionName  // "todo-v1-3f9a2c1"
/// for object in rendered.objects { try await client.apply(object) }  // the Secret, the Service, its events
/// ```
public struct RenderedVersion: Hashable, Sendable {
    public var service: KubernetesObject
    public var secret: KubernetesObject
    /// `spec.template.metadata.name` of the Service: `<service>-<7 hex digits of the template's SHA-256>`.
    public var revisionName: String
    /// The PingSources of the enabled cron jobs, then the Triggers of the queues; see ``EventManifests``.
    public var events: [KubernetesObject]

    public init(
        service: KubernetesObject,
        secret: KubernetesObject,
        revisionName: String,
        events: [KubernetesObject] = []
    ) {
        self.service = service
        self.secret = secret
        self.revisionName = revisionName
        self.events = events
    }

    /// The Secret before the Service, so that the revision never starts without the Secret it reads; the event
    /// objects last, so that nothing is delivered to a Service that does not exist yet.
    public var objects: [KubernetesObject] { [secret, service] + events }

    /// All objects as one multi-document YAML stream, as `kubectl apply -f` takes it.
    public func yaml() -> String {
        objects.map { $0.yaml() }.joined(separator: "---\n")
    }
}
