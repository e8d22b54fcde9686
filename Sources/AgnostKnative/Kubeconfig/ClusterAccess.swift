public import AgnostHTTP

/// Everything needed to talk to one Kubernetes API server as one user: where it is, how its certificate is verified,
/// who to authenticate as, and which namespace to work in. Made by ``KubeconfigLoader/resolve(explicitPath:context:namespace:environment:homeDirectory:serviceAccountFolder:)``.
///
/// Its description and mirror never show a token, password, key or plugin environment value.
///
/// ```swift
/// let access = try KubeconfigLoader.resolve(
///     explicitPath: nil, context: nil, namespace: nil,
///     environment: ProcessInfo.processInfo.environment, homeDirectory: NSHomeDirectory())
/// print(access)  // https://127.0.0.1:6443 as user kind-kind (context kind-kind), namespace default
/// ```
public struct ClusterAccess: Sendable, CustomStringConvertible, CustomReflectable {
    /// The API server's base URL, without a trailing slash, such as `https://127.0.0.1:6443`.
    public var server: String
    /// The cluster's certificate authority, server name and verification, and the user's client certificate.
    public var tls: HTTPClient.TLS
    public var namespace: String
    /// The kubeconfig context, or `in-cluster` for a pod's service account.
    public var contextName: String
    /// The kubeconfig user, or `service-account` in a pod.
    public var userName: String
    /// How each request authenticates, besides a client certificate in ``tls``.
    public var credentials: Credentials
    /// Where this came from, for messages: the kubeconfig file(s) or the service-account folder.
    public var source: String

    public init(
        server: String,
        tls: HTTPClient.TLS = HTTPClient.TLS(),
        namespace: String = "default",
        contextName: String,
        userName: String,
        credentials: Credentials = .none,
        source: String
    ) {
        self.server = server
        self.tls = tls
        self.namespace = namespace
        self.contextName = contextName
        self.userName = userName
        self.credentials = credentials
        self.source = source
    }

    public var description: String {
        "\(server) as user \(userName) (context \(contextName)), namespace \(namespace), credentials \(credentials), "
            + "\(tls), from \(source)"
    }

    public var customMirror: Mirror { Mirror(self, children: ["description": description]) }

    /// How a user proves who it is, besides a client certificate.
    ///
    /// ```swift
    /// if case .exec(let plugin) = access.credentials { print(plugin.command) }
    /// ```
    public enum Credentials: Sendable, CustomStringConvertible, CustomReflectable {
        /// Anonymous, or a client certificate alone.
        case none
        /// A token given in the kubeconfig: `Authorization: Bearer …`.
        case bearer(String)
        /// A token read from a file, re-read as it rotates (a pod's service-account token, say).
        case tokenFile(path: String)
        /// `Authorization: Basic …` from `username` and `password`.
        case basic(username: String, password: String)
        /// A token or client certificate printed by a credential plugin.
        case exec(ExecPlugin)

        public var description: String {
            switch self {
            case .none: "none"
            case .bearer: "bearer token"
            case .tokenFile(let path): "token file \(path)"
            case .basic(let username, _): "basic authentication as \(username)"
            case .exec(let plugin): "exec plugin \(plugin.command)"
            }
        }

        public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
    }

    /// An exec credential plugin as a kubeconfig user defines it, with relative paths already resolved.
    public struct ExecPlugin: Sendable, CustomStringConvertible, CustomReflectable {
        /// `client.authentication.k8s.io/v1` or `client.authentication.k8s.io/v1beta1`.
        public var apiVersion: String
        /// A name looked up on `PATH`, or a path (a relative one already resolved against the kubeconfig's folder).
        public var command: String
        public var arguments: [String]
        /// Added to the environment of this process for the plugin.
        public var environment: [(name: String, value: String)]
        /// Shown when the command is not found.
        public var installHint: String?
        /// The cluster passed in `KUBERNETES_EXEC_INFO` when the user asks for `provideClusterInfo`.
        public var cluster: ClusterInfo?

        public init(
            apiVersion: String,
            command: String,
            arguments: [String] = [],
            environment: [(name: String, value: String)] = [],
            installHint: String? = nil,
            cluster: ClusterInfo? = nil
        ) {
            self.apiVersion = apiVersion
            self.command = command
            self.arguments = arguments
            self.environment = environment
            self.installHint = installHint
            self.cluster = cluster
        }

        public var description: String {
            "\(command) (\(apiVersion)), environment \(environment.map(\.name))"
        }

        public var customMirror: Mirror { Mirror(self, children: ["description": description]) }
    }

    /// The cluster as `KUBERNETES_EXEC_INFO` describes it to a plugin.
    public struct ClusterInfo: Sendable {
        public var server: String
        public var tlsServerName: String?
        public var insecureSkipTLSVerify: Bool
        /// The certificate authority's PEM, sent base64-encoded.
        public var certificateAuthorityData: [UInt8]?

        public init(
            server: String,
            tlsServerName: String? = nil,
            insecureSkipTLSVerify: Bool = false,
            certificateAuthorityData: [UInt8]? = nil
        ) {
            self.server = server
            self.tlsServerName = tlsServerName
            self.insecureSkipTLSVerify = insecureSkipTLSVerify
            self.certificateAuthorityData = certificateAuthorityData
        }
    }
}
