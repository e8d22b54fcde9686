import AgnostBundle

/// How to reach one resource `agnost.yaml` declares under `resources:`: what the platform linked to it on
/// Knative, or what the project's settings file gives it locally, read once at start-up.
///
/// ```swift
/// let db = try context.resources.require("maindb")
/// let client = try await PostgresClient(url: db.uri ?? "postgres://\(db.host ?? "localhost"):\(db.port ?? 5432)")
/// ```
public struct ResourceSettings: Sendable, Equatable {
    /// The name in `agnost.yaml`.
    public let name: String
    /// `mongodb`, `postgres`, `redis`, `rabbitmq` or `s3`, as declared.
    public let type: String
    /// A whole connection URI, which may carry the user and password.
    public let uri: String?
    public let host: String?
    public let port: Int?
    public let database: String?
    public let user: String?
    public let password: String?
    public let tls: Bool
    /// Driver options such as `replicaSet` or `authSource`.
    public let options: [String: String]

    public init(
        name: String,
        type: String,
        uri: String? = nil,
        host: String? = nil,
        port: Int? = nil,
        database: String? = nil,
        user: String? = nil,
        password: String? = nil,
        tls: Bool = false,
        options: [String: String] = [:]
    ) {
        self.name = name
        self.type = type
        self.uri = uri
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
        self.tls = tls
        self.options = options
    }

    /// The settings of `name` from its `AGNOST_RESOURCE_<NAME>_*` variables, or nil when none is set.
    init?(name: String, type: String, environment: [String: String]) {
        func value(_ setting: ResourceContract.Setting) -> String? {
            environment[ResourceContract.variable(resource: name, setting: setting)].flatMap { $0.isEmpty ? nil : $0 }
        }
        guard ResourceContract.Setting.allCases.contains(where: { value($0) != nil }) else { return nil }
        var options: [String: String] = [:]
        for pair in (value(.options) ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            options[PercentEncoding.decodeFormComponent(parts[0])] =
                parts.count > 1 ? PercentEncoding.decodeFormComponent(parts[1]) : ""
        }
        self.init(
            name: name,
            type: type,
            uri: value(.uri),
            host: value(.host),
            port: value(.port).flatMap { Int($0) },
            database: value(.database),
            user: value(.user),
            password: value(.password),
            tls: value(.tls) == "true",
            options: options
        )
    }
}

/// Printing never shows the password, nor the URI, which may hold it: log lines and error messages end up where
/// more people read them.
extension ResourceSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let shown = [
            ("host", host), ("port", port.map(String.init)), ("database", database), ("user", user),
        ]
        .compactMap { label, value in value.map { "\(label): \($0)" } }
        let secrets = [("uri", uri), ("password", password)].compactMap { label, value in
            value.map { _ in "\(label): <redacted>" }
        }
        return "ResourceSettings(\(([ "name: \(name)", "type: \(type)"] + shown + secrets).joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["name": name, "type": type]) }
}

/// The resources `agnost.yaml` declares, by name.
///
/// ```swift
/// if let cache = context.resources["cache"] { … }
/// let db = try context.resources.require("maindb")   // throws, saying what is missing
/// ```
public struct LinkedResources: Sendable {
    private let declared: [String: String]
    private let settings: [String: ResourceSettings]

    package init(_ resources: [ResourcePlan], environment: [String: String]) {
        declared = Dictionary(resources.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        settings = Dictionary(
            resources.compactMap { plan in
                ResourceSettings(name: plan.name, type: plan.type, environment: environment).map { (plan.name, $0) }
            },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The settings of resource `name`, or nil when it is not declared or nothing gives it settings.
    public subscript(name: String) -> ResourceSettings? { settings[name] }

    /// The settings of resource `name`.
    ///
    /// - Throws: ``ResourceError`` when `agnost.yaml` does not declare it or nothing gives it settings, saying
    ///   which; thrown on from a handler, it is logged and the caller gets a bare 500.
    public func require(_ name: String) throws(ResourceError) -> ResourceSettings {
        if let found = settings[name] { return found }
        guard declared[name] != nil else {
            let names = declared.keys.sorted()
            throw ResourceError(
                resource: name,
                message: "resource '\(name)' is not declared in agnost.yaml"
                    + (names.isEmpty ? "" : "; it declares \(names.joined(separator: ", "))")
            )
        }
        let variable = ResourceContract.variable(resource: name, setting: .uri)
        throw ResourceError(
            resource: name,
            message: "resource '\(name)' has no settings: link it to a resource on the platform, or give it settings "
                + "locally (\(variable) and the other \(ResourceContract.prefix)* variables)"
        )
    }
}

/// A resource a handler asked for that it cannot have.
public struct ResourceError: Error, Sendable, CustomStringConvertible {
    /// The name asked for.
    public let resource: String
    public let message: String

    public var description: String { message }
}
