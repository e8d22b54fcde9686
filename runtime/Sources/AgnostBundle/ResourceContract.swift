/// How a linked resource's connection settings reach a version's server: one environment variable per setting,
/// `AGNOST_RESOURCE_<NAME>_<SETTING>`, where `<NAME>` is the resource's name in `agnost.yaml` in upper case with
/// `-` as `_` (names are DNS labels, so no two names share a prefix).
///
/// On Knative the platform puts them in the version's Secret and the Service reads them from there; `run` reads
/// them from the project's settings file. Both sides take the names from here.
///
/// ```swift
/// ResourceContract.variable(resource: "main-db", setting: .uri)   // "AGNOST_RESOURCE_MAIN_DB_URI"
/// ```
public enum ResourceContract {
    public static let prefix = "AGNOST_RESOURCE_"

    /// The settings of a resource, each in its own variable.
    public enum Setting: String, Sendable, CaseIterable {
        /// A whole connection URI (it may carry the user and password).
        case uri = "URI"
        case host = "HOST"
        case port = "PORT"
        case database = "DATABASE"
        case user = "USER"
        case password = "PASSWORD"
        /// `true` or `false`.
        case tls = "TLS"
        /// Driver options as a URL query, `replicaSet=rs0&authSource=admin`.
        case options = "OPTIONS"
    }

    public static func variable(resource: String, setting: Setting) -> String {
        let name = String(resource.uppercased().map { $0 == "-" ? "_" : $0 })
        return "\(prefix)\(name)_\(setting.rawValue)"
    }
}
