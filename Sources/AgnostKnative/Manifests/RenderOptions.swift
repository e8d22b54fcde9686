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

    public init(namespace: String, image: String, secret: VersionSecretData, previousRevision: String? = nil) {
        self.namespace = namespace
        self.image = image
        self.secret = secret
        self.previousRevision = previousRevision
    }
}

/// The objects of one deployed version, as the deployer applies them.
///
/// ```swift
/// let rendered = try ManifestRenderer.render(bundle, options: options)
/// rendered.revisionName  // "todo-v1-3f9a2c1"
/// for object in rendered.objects { try await client.apply(object) }  // the Secret first, then the Service
/// ```
public struct RenderedVersion: Hashable, Sendable {
    public var service: KubernetesObject
    public var secret: KubernetesObject
    /// `spec.template.metadata.name` of the Service: `<service>-<7 hex digits of the template's SHA-256>`.
    public var revisionName: String

    public init(service: KubernetesObject, secret: KubernetesObject, revisionName: String) {
        self.service = service
        self.secret = secret
        self.revisionName = revisionName
    }

    /// The Secret before the Service, so that the revision never starts without the Secret it reads.
    public var objects: [KubernetesObject] { [secret, service] }

    /// All objects as one multi-document YAML stream, as `kubectl apply -f` takes it.
    public func yaml() -> String {
        objects.map { $0.yaml() }.joined(separator: "---\n")
    }
}
