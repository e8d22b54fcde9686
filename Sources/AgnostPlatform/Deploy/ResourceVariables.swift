import AgnostBundle
import AgnostSpec
import Foundation

/// The settings a linked resource gives a version, as ``ResourceContract`` names them.
///
/// Every setting that can be known is given, so that handler code may use whichever its driver takes: a resource
/// added with a URI also gets the host, port, database and user in it, and one added by parts also gets a URI
/// made of them (but an `s3` one, whose clients take an endpoint and a bucket rather than a URI).
///
/// ```swift
/// ResourceVariables.settings(of: resource, password: "pw", uri: nil)
/// // [.host: "db", .port: "5432", .database: "app", .user: "app", .password: "pw", .tls: "false",
/// //  .uri: "postgresql://app:pw@db:5432/app"]
/// ```
enum ResourceVariables {
    static func settings(
        of resource: Resource,
        password: String?,
        uri: String?
    ) -> [(ResourceContract.Setting, String)] {
        let parsed = uri.flatMap { URLComponents(string: $0) }
        let given = resource.settings
        let host = given.host ?? parsed?.host
        let port = given.port ?? parsed?.port ?? (host == nil ? nil : ResourceEndpoint.defaultPort(of: resource.type))
        let database = given.database ?? parsed.flatMap(Self.database(in:))
        let user = given.user ?? parsed?.user.flatMap { $0.removingPercentEncoding }
        let password = password ?? parsed?.password.flatMap { $0.removingPercentEncoding }
        let options =
            given.options.isEmpty
            ? Dictionary(
                (parsed?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
                uniquingKeysWith: { _, last in last }
            )
            : given.options
        let composed =
            uri
            ?? host.flatMap { host in
                Self.uri(
                    type: resource.type,
                    tls: given.tls,
                    host: host,
                    port: port,
                    database: database,
                    user: user,
                    password: password,
                    options: options
                )
            }
        let values: [(ResourceContract.Setting, String?)] = [
            (.uri, composed),
            (.host, host),
            (.port, port.map(String.init)),
            (.database, database),
            (.user, user),
            (.password, password),
            (.tls, String(given.tls)),
            (.options, options.isEmpty ? nil : ResourceContract.optionsValue(options)),
        ]
        return values.compactMap { setting, value in value.map { (setting, $0) } }
    }

    /// `mongodb://user:pass@host:27017/db?opt=1` and its kin, each part percent-encoded as URIs need it.
    static func uri(
        type: ResourceType,
        tls: Bool,
        host: String,
        port: Int?,
        database: String?,
        user: String?,
        password: String?,
        options: [String: String]
    ) -> String? {
        let scheme: String
        switch type {
        case .mongodb: scheme = "mongodb"
        case .postgres: scheme = "postgresql"
        case .redis: scheme = tls ? "rediss" : "redis"
        case .rabbitmq: scheme = tls ? "amqps" : "amqp"
        case .s3: return nil
        }
        var components = URLComponents()
        components.scheme = scheme
        components.host = host
        components.port = port
        components.user = user
        components.password = user == nil ? nil : password
        if let database { components.path = "/" + database }
        var query = options
        if tls, type == .mongodb { query["tls"] = "true" }
        if tls, type == .postgres { query["sslmode"] = query["sslmode"] ?? "require" }
        if !query.isEmpty { components.percentEncodedQuery = ResourceContract.optionsValue(query) }
        return components.string
    }

    /// The database a URI's path names: `/app` → `app`; nothing for `/`.
    private static func database(in components: URLComponents) -> String? {
        let path = components.path.drop { $0 == "/" }
        return path.isEmpty ? nil : String(path)
    }
}
