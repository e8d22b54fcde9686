/// One Kubernetes object as the deployer writes and reads it: the whole object in ``body``, with its identity and
/// metadata readable without walking the tree.
///
/// ```swift
/// let secret = KubernetesObject(
///     apiVersion: "v1", kind: "Secret", name: "todo-v1", namespace: "default",
///     labels: ["app.kubernetes.io/name": "todo"], content: [("type", "Opaque")]
/// )
/// secret.yaml()  // apiVersion: v1\nkind: Secret\nmetadata:\n  name: todo-v1\n …
/// ```
public struct KubernetesObject: Hashable, Sendable {
    /// The whole object, `apiVersion`, `kind` and `metadata` first.
    public private(set) var body: ManifestValue

    /// Builds `apiVersion`, `kind`, `metadata` (`name`, `namespace`, `labels`, `annotations`, the maps sorted by key
    /// as Kubernetes writes them, empty maps left out) and then `content` in its order.
    public init(
        apiVersion: String,
        kind: String,
        name: String,
        namespace: String?,
        labels: [String: String] = [:],
        annotations: [String: String] = [:],
        content: [(key: String, value: ManifestValue)]
    ) {
        var metadata: [(key: String, value: ManifestValue)] = [("name", .string(name))]
        if let namespace { metadata.append(("namespace", .string(namespace))) }
        if !labels.isEmpty { metadata.append(("labels", .sortedStrings(labels))) }
        if !annotations.isEmpty { metadata.append(("annotations", .sortedStrings(annotations))) }
        body = .object(
            [("apiVersion", .string(apiVersion)), ("kind", .string(kind)), ("metadata", .object(metadata))] + content
        )
    }

    /// An object read back, e.g. from the API server; it must have `apiVersion`, `kind` and `metadata.name`.
    ///
    /// ```swift
    /// let object = try KubernetesObject(body: ManifestValue(json: responseBytes))
    /// ```
    public init(body: ManifestValue) throws(ManifestError) {
        guard body["apiVersion"]?.stringValue != nil, body["kind"]?.stringValue != nil else {
            throw ManifestError(.invalidObject, "not a Kubernetes object: it has no apiVersion or kind")
        }
        guard body["metadata"]?["name"]?.stringValue != nil else {
            throw ManifestError(.invalidObject, "not a Kubernetes object: it has no metadata.name")
        }
        self.body = body
    }

    public var apiVersion: String { body["apiVersion"]?.stringValue ?? "" }
    public var kind: String { body["kind"]?.stringValue ?? "" }
    public var name: String { body["metadata"]?["name"]?.stringValue ?? "" }
    public var namespace: String? { body["metadata"]?["namespace"]?.stringValue }
    public var labels: [String: String] { body["metadata"]?["labels"]?.stringMap ?? [:] }
    public var annotations: [String: String] { body["metadata"]?["annotations"]?.stringMap ?? [:] }

    /// Compact JSON, as sent to the API server.
    public func jsonBytes() -> [UInt8] { body.jsonBytes() }

    /// Block YAML, as `kubectl get -o yaml` shows it.
    public func yaml() -> String { body.yaml() }
}

/// `Kind namespace/name`: printing an object never shows its contents, which for a Secret are credentials.
extension KubernetesObject: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "\(kind) \(namespace.map { "\($0)/" } ?? "")\(name)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
}

extension ManifestValue {
    /// An object of strings sorted by key, as Kubernetes writes its `map[string]string` fields.
    static func sortedStrings(_ map: [String: String]) -> ManifestValue {
        .object(
            map.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, .string($0.value)) }
        )
    }

    /// The string members of an object.
    fileprivate var stringMap: [String: String]? {
        objectValue.map { members in
            Dictionary(members.compactMap { member in member.value.stringValue.map { (member.key, $0) } }) { _, last in
                last
            }
        }
    }
}
