/// One kubeconfig file (`apiVersion: v1`, `kind: Config`) as `kubectl` reads it: named clusters, users and contexts
/// and the current context. `preferences` and `extensions` are ignored, as are fields this client does not use
/// (`proxy-url`, say).
///
/// Its description and mirror never show a token, password, key or `exec` environment value.
///
/// ```swift
/// let config = try YAMLDecoder().decode(Kubeconfig.self, from: text)
/// print(config.currentContext ?? "none", config.contexts.map(\.name))
/// ```
public struct Kubeconfig: Sendable, Decodable {
    public var clusters: [Named<Cluster>]
    public var users: [Named<User>]
    public var contexts: [Named<Context>]
    public var currentContext: String?

    /// An entry of one of the lists: `- name: N` and the value under its kind's key (`cluster:`, `user:`,
    /// `context:`).
    public struct Named<Value: KubeconfigEntry>: Sendable, Decodable {
        public var name: String
        public var value: Value

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            name = try container.decode(String.self, forKey: Key(stringValue: "name"))
            value = try container.decode(Value.self, forKey: Key(stringValue: Value.key))
        }
    }

    /// How to reach and verify one API server.
    public struct Cluster: KubeconfigEntry {
        public static let key = "cluster"
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    /// Who to be: one of token, token file, basic authentication or an exec plugin, optionally with a client
    /// certificate.
    public struct User: KubeconfigEntry, CustomReflectable {
        public static let key = "user"
        public var token: String?
        public var tokenFile: String?
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var username: String?
        public var password: String?
        public var exec: Exec?
        /// Only its name is kept: the old in-tree auth providers (gcp, azure, oidc) are not supported.
        public var authProvider: AuthProvider?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }

        /// Which fields are set, never their values.
        public var customMirror: Mirror {
            let set: [(String, Bool)] = [
                ("token", token != nil), ("tokenFile", tokenFile != nil), ("username", username != nil),
                ("password", password != nil), ("client-certificate", clientCertificate != nil),
                ("client-certificate-data", clientCertificateData != nil), ("client-key", clientKey != nil),
                ("client-key-data", clientKeyData != nil), ("exec", exec != nil),
                ("auth-provider", authProvider != nil),
            ]
            return Mirror(self, children: ["fields": set.filter(\.1).map(\.0)])
        }
    }

    /// `auth-provider:` of a user.
    public struct AuthProvider: Sendable, Decodable {
        public var name: String
    }

    /// An exec credential plugin (`client.authentication.k8s.io/v1` or `v1beta1`).
    public struct Exec: Sendable, Decodable, CustomReflectable {
        public var apiVersion: String?
        public var command: String?
        public var args: [String]?
        public var env: [EnvironmentVariable]?
        public var installHint: String?
        public var provideClusterInfo: Bool?
        public var interactiveMode: String?

        /// The environment's names only: plugins are often handed secrets there.
        public var customMirror: Mirror {
            Mirror(self, children: ["command": command ?? "", "args": args ?? [], "env": (env ?? []).map(\.name)])
        }
    }

    /// One `env` entry of an exec plugin.
    public struct EnvironmentVariable: Sendable, Decodable {
        public var name: String
        public var value: String
    }

    /// A cluster and a user, and the namespace to work in.
    public struct Context: KubeconfigEntry {
        public static let key = "context"
        public var cluster: String?
        public var user: String?
        public var namespace: String?
    }

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // kubectl writes `users: null` for an empty list.
        clusters = try container.decodeIfPresent([Named<Cluster>].self, forKey: .clusters) ?? []
        users = try container.decodeIfPresent([Named<User>].self, forKey: .users) ?? []
        contexts = try container.decodeIfPresent([Named<Context>].self, forKey: .contexts) ?? []
        let current = try container.decodeIfPresent(String.self, forKey: .currentContext)
        currentContext = current?.isEmpty == true ? nil : current
    }
}

extension Kubeconfig: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "Kubeconfig(clusters: \(clusters.map(\.name)), users: \(users.map(\.name)), "
            + "contexts: \(contexts.map(\.name)), current-context: \(currentContext ?? "none"))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["description": description])
    }
}

/// A value listed by name in a kubeconfig, under the key `key` of its entry.
public protocol KubeconfigEntry: Sendable, Decodable {
    static var key: String { get }
}
