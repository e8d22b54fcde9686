/// The labels on every object of a version, by which status, pruning and delete find them again.
public enum VersionLabels {
    public static let name = "app.kubernetes.io/name"
    public static let version = "app.kubernetes.io/version"
    public static let managedBy = "app.kubernetes.io/managed-by"
}

/// The annotations agnost-fn writes on a version's Service and its template.
public enum ManifestAnnotations {
    /// On the Service: the `sha256:…` of the `agnost.yaml` it was rendered from.
    public static let specDigest = "agnost.dev/spec-digest"
    /// On the Service: the image as given to the renderer.
    public static let image = "agnost.dev/image"
    /// On the Service: the revision that served before the current template's, where a rollback goes.
    public static let previousRevision = "agnost.dev/previous-revision"
    /// On the Service of a version with queues: the Broker its Triggers are on, which a key change (that renders
    /// the version again without being told) keeps.
    public static let broker = "agnost.dev/broker"
    /// On the template: the digest of the Secret's data but the internal token; a change rolls a revision.
    public static let secretDigest = "agnost.dev/secret-digest"
}
