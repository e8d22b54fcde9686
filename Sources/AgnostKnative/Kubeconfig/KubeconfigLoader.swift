import AgnostHTTP
import Foundation
import Yams

/// Finds the kubeconfig as `kubectl` does and turns one of its contexts into a ``ClusterAccess``.
///
/// ```swift
/// let access = try KubeconfigLoader.resolve(
///     explicitPath: nil, context: "kind-kind", namespace: nil,
///     environment: ProcessInfo.processInfo.environment, homeDirectory: NSHomeDirectory())
/// ```
public enum KubeconfigLoader {
    /// Where a pod finds its service account's token, certificate authority and namespace.
    public static let serviceAccountFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The cluster, user and namespace to use.
    ///
    /// The kubeconfig is `explicitPath` if given (it must exist), else the `:`-separated files of `KUBECONFIG`
    /// merged as `kubectl` merges them (for clusters, users and contexts the first file defining a name wins, and
    /// `current-context` comes from the first file setting it; missing files are skipped), else
    /// `homeDirectory/.kube/config`. Without any, a pod (`KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`
    /// set) uses its service account from `serviceAccountFolder`.
    ///
    /// - Parameters:
    ///   - context: overrides `current-context`.
    ///   - namespace: overrides the context's namespace; without either, `default` (or, in a pod, its own).
    public static func resolve(
        explicitPath: String?,
        context: String?,
        namespace: String?,
        environment: [String: String],
        homeDirectory: String,
        serviceAccountFolder: String = serviceAccountFolder
    ) throws(KubeconfigError) -> ClusterAccess {
        if let namespace { try validateNamespace(namespace, origin: "the namespace asked for") }
        let inCluster = inClusterHost(environment)
        var tried: String
        if let explicitPath, !explicitPath.isEmpty {
            guard FileManager.default.fileExists(atPath: explicitPath) else {
                throw KubeconfigError(
                    .unreadable,
                    "the kubeconfig \(explicitPath) does not exist; check the path",
                    context: explicitPath
                )
            }
            return try select(merge([try load(explicitPath)]), context: context, namespace: namespace)
        } else if let list = environment["KUBECONFIG"], !list.isEmpty {
            let paths = list.split(separator: ":").map(String.init).filter { !$0.isEmpty }
            let files = try paths.filter { FileManager.default.fileExists(atPath: $0) }.map(load)
            if !files.isEmpty {
                return try select(merge(files), context: context, namespace: namespace)
            }
            tried = "none of the files in KUBECONFIG (\(paths.joined(separator: ", "))) exists"
        } else {
            let path = homeDirectory + "/.kube/config"
            if FileManager.default.fileExists(atPath: path) {
                return try select(merge([try load(path)]), context: context, namespace: namespace)
            }
            tried = "KUBECONFIG is not set and \(path) does not exist"
        }
        if let inCluster {
            return try serviceAccount(host: inCluster, folder: serviceAccountFolder, namespace: namespace)
        }
        tried += ", and this is not a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set)"
        throw KubeconfigError(
            .noConfiguration,
            "no Kubernetes configuration found: \(tried); name a kubeconfig file, set KUBECONFIG, or create "
                + "~/.kube/config (kind, minikube and cloud CLIs write one when they create or connect to a cluster)"
        )
    }

    // MARK: Reading and merging

    /// A kubeconfig file as read, and the folder its relative paths resolve against.
    struct File {
        let path: String
        let config: Kubeconfig

        var folder: String {
            let url = URL(fileURLWithPath: path).standardizedFileURL
            return url.deletingLastPathComponent().path
        }
    }

    /// An entry and the file that defined it.
    struct Defined<Value: Sendable>: Sendable {
        let value: Value
        let file: File
    }

    /// The merge of a `KUBECONFIG` list.
    struct Merged {
        var clusters: [String: Defined<Kubeconfig.Cluster>] = [:]
        var users: [String: Defined<Kubeconfig.User>] = [:]
        var contexts: [String: Defined<Kubeconfig.Context>] = [:]
        /// In the order of first definition, for messages.
        var contextNames: [String] = []
        var currentContext: String?
        var paths: [String] = []

        var source: String { paths.joined(separator: ", ") }
    }

    static func load(_ path: String) throws(KubeconfigError) -> File {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KubeconfigError(
                .unreadable,
                "cannot read the kubeconfig \(path): \(Self.reason(error)); check its permissions",
                context: path
            )
        }
        return File(path: path, config: try decode(bytes, file: path))
    }

    /// Decodes one file's text. Errors name the field by its path in the file and never quote a value or a line,
    /// which may hold a token.
    static func decode(_ bytes: Data, file: String) throws(KubeconfigError) -> Kubeconfig {
        if bytes.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            return try decode(Data("{}".utf8), file: file)
        }
        do {
            return try YAMLDecoder().decode(Kubeconfig.self, from: bytes)
        } catch let error as DecodingError {
            // Yams reports YAML that does not parse as corrupted data, with the parser's error inside.
            if case .dataCorrupted(let context) = error, let yaml = context.underlyingError as? YamlError {
                throw KubeconfigError(.malformed, "\(file) is not valid YAML\(position(yaml))", context: file)
            }
            throw KubeconfigError(.malformed, "\(file): \(describe(error))", context: file)
        } catch let error as YamlError {
            throw KubeconfigError(.malformed, "\(file) is not valid YAML\(position(error))", context: file)
        } catch {
            throw KubeconfigError(.malformed, "\(file) is not a kubeconfig file", context: file)
        }
    }

    /// Merges files in order: for each name the first definition wins, as does the first `current-context`.
    static func merge(_ files: [File]) -> Merged {
        var merged = Merged()
        for file in files {
            merged.paths.append(file.path)
            for entry in file.config.clusters where merged.clusters[entry.name] == nil {
                merged.clusters[entry.name] = Defined(value: entry.value, file: file)
            }
            for entry in file.config.users where merged.users[entry.name] == nil {
                merged.users[entry.name] = Defined(value: entry.value, file: file)
            }
            for entry in file.config.contexts where merged.contexts[entry.name] == nil {
                merged.contexts[entry.name] = Defined(value: entry.value, file: file)
                merged.contextNames.append(entry.name)
            }
            if merged.currentContext == nil { merged.currentContext = file.config.currentContext }
        }
        return merged
    }

    // MARK: Selecting a context

    static func select(
        _ merged: Merged,
        context: String?,
        namespace: String?
    ) throws(KubeconfigError)
        -> ClusterAccess
    {
        let available =
            merged.contextNames.isEmpty
            ? "it defines no contexts"
            : "the contexts defined are \(merged.contextNames.joined(separator: ", "))"
        guard let contextName = (context?.isEmpty == false ? context : nil) ?? merged.currentContext else {
            throw KubeconfigError(
                .unknownContext,
                "the kubeconfig \(merged.source) sets no current-context; choose a context: \(available)",
                context: merged.source
            )
        }
        guard let defined = merged.contexts[contextName] else {
            let origin = context?.isEmpty == false ? "the context asked for" : "current-context"
            throw KubeconfigError(
                .unknownContext,
                "\(origin) \"\(contextName)\" is not defined in the kubeconfig \(merged.source); \(available)",
                context: contextName
            )
        }
        let entry = "\(defined.file.path): context \"\(contextName)\""
        guard let clusterName = defined.value.cluster, !clusterName.isEmpty else {
            throw KubeconfigError(.invalidEntry, "\(entry) names no cluster; add its cluster field", context: entry)
        }
        guard let cluster = merged.clusters[clusterName] else {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry) names cluster \"\(clusterName)\", which is not defined in \(merged.source)",
                context: entry
            )
        }
        var tls = HTTPClient.TLS()
        let server = try clusterSettings(cluster, name: clusterName, into: &tls)
        let userName = defined.value.user ?? ""
        var credentials = ClusterAccess.Credentials.none
        if !userName.isEmpty {
            guard let user = merged.users[userName] else {
                throw KubeconfigError(
                    .invalidEntry,
                    "\(entry) names user \"\(userName)\", which is not defined in \(merged.source)",
                    context: entry
                )
            }
            credentials = try userSettings(
                user,
                name: userName,
                cluster: clusterInfo(server: server, cluster: cluster),
                into: &tls
            )
        }
        let contextNamespace = defined.value.namespace.flatMap { $0.isEmpty ? nil : $0 }
        if namespace == nil, let contextNamespace {
            try validateNamespace(contextNamespace, origin: "\(entry): namespace")
        }
        return ClusterAccess(
            server: server,
            tls: tls,
            namespace: namespace ?? contextNamespace ?? "default",
            contextName: contextName,
            userName: userName.isEmpty ? "(none)" : userName,
            credentials: credentials,
            source: "kubeconfig \(merged.source)"
        )
    }

    /// Sets the cluster's TLS fields and returns its server URL.
    private static func clusterSettings(
        _ defined: Defined<Kubeconfig.Cluster>,
        name: String,
        into tls: inout HTTPClient.TLS
    ) throws(KubeconfigError) -> String {
        let entry = "\(defined.file.path): cluster \"\(name)\""
        let cluster = defined.value
        guard var server = cluster.server?.trimmingCharacters(in: .whitespaces), !server.isEmpty else {
            throw KubeconfigError(.invalidEntry, "\(entry) has no server; set its server URL", context: entry)
        }
        if !server.contains("://") { server = "https://" + server }
        while server.hasSuffix("/") { server.removeLast() }
        guard let url = URLComponents(string: server), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
            url.host?.isEmpty == false
        else {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry): server \"\(server)\" is not an https:// or http:// URL",
                context: entry
            )
        }
        tls.trustedCertificates = try pem(
            data: cluster.certificateAuthorityData,
            path: cluster.certificateAuthority,
            field: "certificate-authority",
            label: "CERTIFICATE",
            entry: entry,
            file: defined.file
        )
        if cluster.insecureSkipTLSVerify == true {
            guard tls.trustedCertificates == nil else {
                throw KubeconfigError(
                    .invalidEntry,
                    "\(entry) sets both insecure-skip-tls-verify and a certificate-authority; remove one of them",
                    context: entry
                )
            }
            tls.insecureSkipVerify = true
        }
        if let serverName = cluster.tlsServerName, !serverName.isEmpty { tls.serverName = serverName }
        return server
    }

    private static func clusterInfo(server: String, cluster: Defined<Kubeconfig.Cluster>) -> ClusterAccess.ClusterInfo {
        var authority: [UInt8]? = nil
        if let data = cluster.value.certificateAuthorityData, let decoded = base64(data) {
            authority = decoded
        } else if let path = cluster.value.certificateAuthority, !path.isEmpty {
            authority = (try? Data(contentsOf: URL(fileURLWithPath: resolve(path, in: cluster.file)))).map(Array.init)
        }
        return ClusterAccess.ClusterInfo(
            server: server,
            tlsServerName: cluster.value.tlsServerName,
            insecureSkipTLSVerify: cluster.value.insecureSkipTLSVerify ?? false,
            certificateAuthorityData: authority
        )
    }

    /// Sets the user's client certificate and returns how requests authenticate.
    private static func userSettings(
        _ defined: Defined<Kubeconfig.User>,
        name: String,
        cluster: ClusterAccess.ClusterInfo,
        into tls: inout HTTPClient.TLS
    ) throws(KubeconfigError) -> ClusterAccess.Credentials {
        let entry = "\(defined.file.path): user \"\(name)\""
        let user = defined.value
        if let provider = user.authProvider {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry) uses auth-provider \"\(provider.name)\", which is not supported (kubectl removed the "
                    + "built-in providers too); use the exec credential plugin that replaces it, such as "
                    + "gke-gcloud-auth-plugin or kubelogin",
                context: entry
            )
        }
        tls.clientCertificate = try pem(
            data: user.clientCertificateData,
            path: user.clientCertificate,
            field: "client-certificate",
            label: "CERTIFICATE",
            entry: entry,
            file: defined.file
        )
        tls.clientKey = try pem(
            data: user.clientKeyData,
            path: user.clientKey,
            field: "client-key",
            label: "PRIVATE KEY",
            entry: entry,
            file: defined.file
        )
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            let missing = tls.clientKey == nil ? "client-key" : "client-certificate"
            throw KubeconfigError(
                .invalidEntry,
                "\(entry) has a client \(missing == "client-key" ? "certificate" : "key") without its \(missing) "
                    + "(or \(missing)-data); set both",
                context: entry
            )
        }
        let hasToken = user.token?.isEmpty == false || user.tokenFile?.isEmpty == false
        let hasBasic = user.username?.isEmpty == false || user.password?.isEmpty == false
        let methods = [("token", hasToken), ("username/password", hasBasic), ("exec", user.exec != nil)]
            .filter(\.1).map(\.0)
        guard methods.count <= 1 else {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry) sets more than one way to authenticate (\(methods.joined(separator: ", "))); keep one",
                context: entry
            )
        }
        // As in client-go, a token file wins over a token: it is re-read, so it stays current.
        if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            let path = resolve(tokenFile, in: defined.file)
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw KubeconfigError(
                    .tokenFile,
                    "\(entry): tokenFile \(path) cannot be read; check that it exists",
                    context: entry
                )
            }
            return .tokenFile(path: path)
        }
        if let token = user.token, !token.isEmpty { return .bearer(token) }
        if hasBasic { return .basic(username: user.username ?? "", password: user.password ?? "") }
        if let exec = user.exec {
            return .exec(try execPlugin(exec, entry: entry, file: defined.file, cluster: cluster))
        }
        return .none
    }

    private static func execPlugin(
        _ exec: Kubeconfig.Exec,
        entry: String,
        file: File,
        cluster: ClusterAccess.ClusterInfo
    ) throws(KubeconfigError) -> ClusterAccess.ExecPlugin {
        let supported = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
        guard let apiVersion = exec.apiVersion, supported.contains(apiVersion) else {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry): exec apiVersion \"\(exec.apiVersion ?? "")\" is not supported; use "
                    + supported.joined(separator: " or "),
                context: entry
            )
        }
        guard let command = exec.command, !command.isEmpty else {
            throw KubeconfigError(.invalidEntry, "\(entry): exec has no command", context: entry)
        }
        // Plugins run without a terminal: one that insists on asking the user cannot work.
        if exec.interactiveMode == "Always" {
            throw KubeconfigError(
                .invalidEntry,
                "\(entry): exec plugin \(command) needs a terminal (interactiveMode: Always), but plugins run "
                    + "without one here (as interactiveMode: Never); configure the plugin to work non-interactively",
                context: entry
            )
        }
        return ClusterAccess.ExecPlugin(
            apiVersion: apiVersion,
            // client-go resolves a command with a slash against the kubeconfig's folder and looks up a bare name
            // on PATH.
            command: command.contains("/") ? resolve(command, in: file) : command,
            arguments: exec.args ?? [],
            environment: (exec.env ?? []).map { ($0.name, $0.value) },
            installHint: exec.installHint,
            cluster: exec.provideClusterInfo == true ? cluster : nil
        )
    }

    /// The PEM of a `…-data` field (base64) or of a file field (relative to the defining file), data first as in
    /// kubectl.
    private static func pem(
        data: String?,
        path: String?,
        field: String,
        label: String,
        entry: String,
        file: File
    ) throws(KubeconfigError) -> HTTPClient.PEMSource? {
        if let data, !data.isEmpty {
            guard let bytes = base64(data) else {
                throw KubeconfigError(
                    .invalidEntry,
                    "\(entry): \(field)-data is not base64; it holds the PEM text base64-encoded (base64 -w0 FILE)",
                    context: entry
                )
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.contains("-----BEGIN "), text.contains("\(label)-----") else {
                throw KubeconfigError(
                    .invalidEntry,
                    "\(entry): \(field)-data decodes to \(bytes.count) bytes holding no PEM \(label) block",
                    context: entry
                )
            }
            return .pem(bytes)
        }
        guard let path, !path.isEmpty else { return nil }
        let resolved = resolve(path, in: file)
        guard FileManager.default.isReadableFile(atPath: resolved) else {
            throw KubeconfigError(
                .unreadable,
                "\(entry): \(field) \(resolved) cannot be read; check that it exists"
                    + (resolved == path ? "" : " (relative paths are taken from the kubeconfig's folder)"),
                context: entry
            )
        }
        return .file(resolved)
    }

    // MARK: In a pod

    private static func inClusterHost(_ environment: [String: String]) -> String? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
            let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else { return nil }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func serviceAccount(
        host: String,
        folder: String,
        namespace: String?
    ) throws(KubeconfigError) -> ClusterAccess {
        let tokenPath = folder + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw KubeconfigError(
                .tokenFile,
                "this looks like a pod (KUBERNETES_SERVICE_HOST is set), but its service-account token \(tokenPath) "
                    + "cannot be read; mount the service account's token (automountServiceAccountToken), or provide "
                    + "a kubeconfig",
                context: folder
            )
        }
        let caPath = folder + "/ca.crt"
        let ownNamespace = (try? String(contentsOfFile: folder + "/namespace", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return ClusterAccess(
            server: "https://\(host)",
            tls: HTTPClient.TLS(
                trustedCertificates: FileManager.default.isReadableFile(atPath: caPath) ? .file(caPath) : nil
            ),
            namespace: namespace ?? (ownNamespace?.isEmpty == false ? ownNamespace! : "default"),
            contextName: "in-cluster",
            userName: "service-account",
            credentials: .tokenFile(path: tokenPath),
            source: "the service account in \(folder)"
        )
    }

    // MARK: Helpers

    private static func resolve(_ path: String, in file: File) -> String {
        path.hasPrefix("/") ? path : file.folder + "/" + path
    }

    private static func base64(_ text: String) -> [UInt8]? {
        let compact = text.filter { !$0.isWhitespace }
        return Data(base64Encoded: compact).map(Array.init)
    }

    private static func validateNamespace(_ namespace: String, origin: String) throws(KubeconfigError) {
        let valid =
            !namespace.isEmpty && namespace.count <= 63
            && namespace.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            && namespace.first != "-" && namespace.last != "-"
        guard valid else {
            throw KubeconfigError(
                .invalidEntry,
                "\(origin) \"\(namespace)\" is not a valid namespace name: use at most 63 lower-case letters, "
                    + "digits and '-', starting and ending with a letter or digit",
                context: namespace
            )
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            var text = ""
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? "the document" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath, key)) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) should be \(kind(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is empty; it should be \(kind(type))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)) has a value of the wrong kind"
        @unknown default:
            return "it is not a kubeconfig file"
        }
    }

    /// Yams names the YAML node it expected (`Node.Scalar`) or the Swift type it could not make.
    private static func kind(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case _ where name.hasSuffix("Scalar"): return "a single value, such as a string"
        case _ where name.hasSuffix("Sequence") || name.hasPrefix("Array"): return "a list"
        default: return "a mapping"
        }
    }

    private static func position(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            " (line \(mark.line), column \(mark.column): \(problem))"
        default: ""
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }
}
