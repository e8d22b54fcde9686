/// A kind of Kubernetes object as the API serves it: its group, version and plural, which make its URL path.
///
/// ```swift
/// ResourceType.knativeService.path(namespace: "default", name: "todo-v1")
/// // /apis/serving.knative.dev/v1/namespaces/default/services/todo-v1
/// ResourceType.secret.path(namespace: "default")  // /api/v1/namespaces/default/secrets
/// ```
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    /// The API group; empty for the core group (`v1` Secrets, say).
    public var group: String
    public var version: String
    /// The lower-case plural in URLs, such as `services`.
    public var plural: String
    /// The kind in objects, such as `Service`.
    public var kind: String
    /// Whether objects live in a namespace.
    public var namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    /// `serving.knative.dev/v1` Service.
    public static let knativeService = ResourceType(
        group: "serving.knative.dev",
        version: "v1",
        plural: "services",
        kind: "Service"
    )
    /// `serving.knative.dev/v1` Revision.
    public static let knativeRevision = ResourceType(
        group: "serving.knative.dev",
        version: "v1",
        plural: "revisions",
        kind: "Revision"
    )
    /// Core `v1` Secret.
    public static let secret = ResourceType(group: "", version: "v1", plural: "secrets", kind: "Secret")
    /// `sources.knative.dev/v1` PingSource.
    public static let pingSource = ResourceType(
        group: "sources.knative.dev",
        version: "v1",
        plural: "pingsources",
        kind: "PingSource"
    )
    /// `eventing.knative.dev/v1` Trigger.
    public static let trigger = ResourceType(
        group: "eventing.knative.dev",
        version: "v1",
        plural: "triggers",
        kind: "Trigger"
    )
    /// `eventing.knative.dev/v1` Broker: read, never written, for the address queue messages are sent to.
    public static let broker = ResourceType(
        group: "eventing.knative.dev",
        version: "v1",
        plural: "brokers",
        kind: "Broker"
    )

    /// `group/version`, or `version` for the core group, as objects' `apiVersion` says it.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The resource as RBAC rules and `kubectl` name it: `services.serving.knative.dev`, `secrets`.
    public var resource: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The discovery document that lists the group version's resources: `/api/v1` or `/apis/G/V`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The URL path of the collection in `namespace` (or of the whole cluster), or of the object `name` in it.
    ///
    /// ```swift
    /// ResourceType.trigger.path(namespace: "apps")  // /apis/eventing.knative.dev/v1/namespaces/apps/triggers
    /// ```
    public func path(namespace: String?, name: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(Self.escape(namespace))" }
        path += "/\(plural)"
        if let name { path += "/\(Self.escape(name))" }
        return path
    }

    /// The product this resource comes with, for a cluster that lacks it.
    var product: String {
        switch group {
        case "serving.knative.dev": "Knative Serving"
        case "eventing.knative.dev", "sources.knative.dev", "messaging.knative.dev": "Knative Eventing"
        case "": "core Kubernetes API"
        default: "\(group) API"
        }
    }

    public var description: String { "\(apiVersion) \(plural)" }

    /// Object names are DNS labels or subdomains; anything else is escaped rather than allowed to change the path.
    static func escape(_ segment: String) -> String {
        var escaped = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                escaped += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0x0F)])"
            }
        }
        return escaped
    }
}
