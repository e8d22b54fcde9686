import AgnostBundle
import AgnostDigest
import AgnostOCI

/// Renders the Knative Service and the Secret of one app version from its `bundle.json`: pure, with no I/O, so
/// the same inputs always give the same bytes and the same revision name.
///
/// ```swift
/// let rendered = try ManifestRenderer.render(bundle, options: options)
/// print(rendered.yaml())
/// ```
public enum ManifestRenderer {
    public static let managedBy = "agnost-fn"
    /// The container's name: Knative's own default, so the object the cluster shows is the one applied.
    public static let containerName = "user-container"
    /// The runtime listens on `PORT`, which Knative sets to the container port.
    public static let containerPort = 8080
    /// Knative limits revision names (`<service>-<hash>`) to a 63-character DNS label.
    public static let maximumNameLength = 63
    static let revisionHashLength = 7

    /// The labels on every object of a version, which find them again for status, pruning and delete.
    ///
    /// ```swift
    /// ManifestRenderer.labels(app: "todo", version: "v1")["app.kubernetes.io/managed-by"]  // "agnost-fn"
    /// ```
    public static func labels(app: String, version: String) -> [String: String] {
        [
            VersionLabels.name: app,
            VersionLabels.version: version,
            VersionLabels.managedBy: managedBy,
        ]
    }

    /// The `labelSelector` query value that matches ``labels(app:version:)``; without `version`, every version of
    /// the app.
    ///
    /// ```swift
    /// ManifestRenderer.labelSelector(app: "todo")
    /// // "app.kubernetes.io/managed-by=agnost-fn,app.kubernetes.io/name=todo"
    /// ```
    public static func labelSelector(app: String, version: String? = nil) -> String {
        let labels = labels(app: app, version: version ?? "")
        return labels.keys.sorted().filter { version != nil || $0 != VersionLabels.version }
            .map { "\($0)=\(labels[$0] ?? "")" }.joined(separator: ",")
    }

    /// The Secret, then the Service with its revision name, then the cron jobs' PingSources and the queues'
    /// Triggers; see ``RenderedVersion``.
    ///
    /// - Throws: ``ManifestError`` when the image is not pinned by digest, or a name would be refused by Kubernetes.
    public static func render(
        _ bundle: BundleManifest,
        options: RenderOptions
    ) throws(ManifestError) -> RenderedVersion {
        let image = try pinnedImage(options.image)
        try checkNames(of: bundle, namespace: options.namespace)
        let name = bundle.serviceName
        let labels = labels(app: bundle.app, version: bundle.version)
        let secret = KubernetesObject(
            apiVersion: "v1",
            kind: "Secret",
            name: name,
            namespace: options.namespace,
            labels: labels,
            content: [("type", "Opaque"), ("data", options.secret.encodedData)]
        )
        let events = try EventManifests.render(bundle, options: options)
        let brokerURL =
            options.brokerURL
            ?? EventManifests.conventionalBrokerURL(namespace: options.namespace, broker: options.broker)
        let unnamed = template(
            of: bundle,
            image: image,
            labels: labels,
            secretDigest: options.secret.digest,
            brokerURL: bundle.queues.isEmpty ? nil : brokerURL
        )
        let revisionName = "\(name)-\(revisionHash(of: unnamed))"
        var named = unnamed
        named["metadata"] = .object([("name", .string(revisionName))] + (unnamed["metadata"]?.objectValue ?? []))
        let service = KubernetesObject(
            apiVersion: "serving.knative.dev/v1",
            kind: "Service",
            name: name,
            namespace: options.namespace,
            labels: labels,
            annotations: [
                ManifestAnnotations.specDigest: bundle.specDigest, ManifestAnnotations.image: options.image,
                ManifestAnnotations.previousRevision: options.previousRevision,
                ManifestAnnotations.broker: bundle.queues.isEmpty ? nil : options.broker,
            ].compactMapValues { $0 },
            // A deploy sends all traffic to its revision; traffic and rollback change it as another field manager.
            content: [("spec", ["template": named, "traffic": [["latestRevision": true, "percent": 100]]])]
        )
        return RenderedVersion(service: service, secret: secret, revisionName: revisionName, events: events)
    }

    /// `registry/repository@sha256:…`, without any tag: the digest alone decides the content, so retagging the
    /// same image never rolls a new revision.
    private static func pinnedImage(_ text: String) throws(ManifestError) -> String {
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: text)
        } catch {
            throw ManifestError(.invalidImage, error.message, context: "image", underlying: error)
        }
        guard let digest = reference.digest else {
            throw ManifestError(
                .invalidImage,
                "\(text) is not pinned to a digest; the Service must name the pushed image as REF@sha256:…, "
                    + "never a tag that can move",
                context: "image"
            )
        }
        return "\(reference.registry)/\(reference.repository)@\(digest)"
    }

    /// Checked again here, not only by the spec checker, because a `bundle.json` may come from an older toolchain.
    private static func checkNames(of bundle: BundleManifest, namespace: String) throws(ManifestError) {
        let longest = maximumNameLength - 1 - revisionHashLength
        guard isDNSLabel(bundle.serviceName, startsWithLetter: true), bundle.serviceName.utf8.count <= longest else {
            throw ManifestError(
                .invalidName,
                "the Service name '\(bundle.serviceName)' must be a DNS label of at most \(longest) characters, "
                    + "so that its revisions (<name>-<7-character hash>) stay within \(maximumNameLength); shorten "
                    + "the app name or the version in agnost.yaml",
                context: "bundle.json"
            )
        }
        guard isDNSLabel(namespace, startsWithLetter: false), namespace.utf8.count <= maximumNameLength else {
            throw ManifestError(
                .invalidName,
                "'\(namespace)' is not a Kubernetes namespace name: lowercase letters, digits and '-', at most "
                    + "\(maximumNameLength) characters, starting and ending with a letter or digit",
                context: "namespace"
            )
        }
    }

    private static func isDNSLabel(_ text: String, startsWithLetter: Bool) -> Bool {
        let bytes = Array(text.utf8)
        let isLower = { (byte: UInt8) in (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        guard let first = bytes.first, let last = bytes.last else { return false }
        return (isLower(first) || (!startsWithLetter && isDigit(first))) && (isLower(last) || isDigit(last))
            && bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// The first hex digits of the SHA-256 of the template's canonical JSON (keys sorted), before the name is set.
    private static func revisionHash(of template: ManifestValue) -> String {
        String(SHA256.hash(template.sortingKeys().jsonBytes()).hexString.prefix(revisionHashLength))
    }

    /// `spec.template` without its name.
    ///
    /// Secret changes reach the pods through the `agnost.dev/secret-digest` annotation: the runtime reads the
    /// Secret through environment variables, fixed when a pod starts, so a new digest (a key created or revoked)
    /// makes a new template and with it a new revision, which Knative rolls out and moves traffic to.
    private static func template(
        of bundle: BundleManifest,
        image: String,
        labels: [String: String],
        secretDigest: String,
        brokerURL: String?
    ) -> ManifestValue {
        let scaling = bundle.scaling
        var annotations = [
            "autoscaling.knative.dev/min-scale": String(scaling.minScale),
            ManifestAnnotations.secretDigest: secretDigest,
        ]
        annotations["autoscaling.knative.dev/max-scale"] = scaling.maxScale.map(String.init)
        annotations["autoscaling.knative.dev/target"] = scaling.target.map(String.init)

        var spec: [(key: String, value: ManifestValue)] = []
        if let concurrency = scaling.containerConcurrency {
            spec.append(("containerConcurrency", .integer(concurrency)))
        }
        // Knative takes whole seconds; rounding up never ends a request before agnost.yaml allows.
        spec.append(("timeoutSeconds", .integer((scaling.timeoutMilliseconds + 999) / 1000)))
        spec.append(("containers", [container(of: bundle, image: image, brokerURL: brokerURL)]))
        return [
            "metadata": ["labels": .sortedStrings(labels), "annotations": .sortedStrings(annotations)],
            "spec": .object(spec),
        ]
    }

    private static func container(of bundle: BundleManifest, image: String, brokerURL: String?) -> ManifestValue {
        let secretName = ManifestValue.string(bundle.serviceName)
        // Every setting of every declared resource, whether or not the Secret has it: which ones a resource has
        // depends on how it was added, and a variable the Secret lacks is simply not set.
        let resourceVariables = bundle.resources.flatMap { resource in
            ResourceContract.Setting.allCases.map { ResourceContract.variable(resource: resource.name, setting: $0) }
        }
        let secretKeys = [VersionSecretData.internalTokenKey, VersionSecretData.apiKeysKey] + resourceVariables
        let secretVariables = secretKeys.map { key in
            // Optional, so that the Service alone (a render applied by hand) starts, with no keys and no token.
            [
                "name": .string(key),
                "valueFrom": ["secretKeyRef": ["name": secretName, "key": .string(key), "optional": true]],
            ]
                as ManifestValue
        }
        // Kubernetes expands `$(NAME)` in env values and reads `$$` as `$`; doubling every `$` keeps agnost.yaml's
        // values literal, as `run` passes them.
        let literalVariables = bundle.env.map { variable in
            let value = String(variable.value.flatMap { $0 == "$" ? ["$", "$"] : [$0] })
            return ["name": .string(variable.name), "value": .string(value)] as ManifestValue
        }
        // Only an app with queues sends messages; a new Broker address rolls a revision, as the pods read it once.
        let brokerVariables = brokerURL.map { url in
            [["name": .string(EventContract.brokerURLVariable), "value": .string(url)] as ManifestValue]
        }

        var container: [(key: String, value: ManifestValue)] = [
            ("name", .string(containerName)),
            ("image", .string(image)),
            ("ports", [["containerPort": .integer(containerPort), "name": "http1"]]),
            ("env", .array(literalVariables + (brokerVariables ?? []) + secretVariables)),
        ]
        if let resources = resources(of: bundle.scaling) {
            container.append(("resources", resources))
        }
        // No probe port: Knative points probes at the container port itself, and refuses any other.
        container += [
            ("readinessProbe", ["httpGet": ["path": "/agnost/ready"]]),
            ("livenessProbe", ["httpGet": ["path": "/agnost/health"]]),
            (
                "securityContext",
                [
                    "allowPrivilegeEscalation": false,
                    "capabilities": ["drop": ["ALL"]],
                    "readOnlyRootFilesystem": true,
                    "runAsNonRoot": true,
                    "seccompProfile": ["type": "RuntimeDefault"],
                ]
            ),
        ]
        return .object(container)
    }

    private static func resources(of scaling: ScalingPlan) -> ManifestValue? {
        func quantities(cpu: String?, memory: String?) -> ManifestValue? {
            let members = [("cpu", cpu), ("memory", memory)].compactMap { key, value in
                value.map { (key: key, value: ManifestValue.string($0)) }
            }
            return members.isEmpty ? nil : .object(members)
        }
        let members = [
            ("requests", quantities(cpu: scaling.cpuRequest, memory: scaling.memoryRequest)),
            ("limits", quantities(cpu: scaling.cpuLimit, memory: scaling.memoryLimit)),
        ].compactMap { key, value in value.map { (key: key, value: $0) } }
        return members.isEmpty ? nil : .object(members)
    }
}
