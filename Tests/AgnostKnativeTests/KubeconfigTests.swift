import AgnostHTTP
import Foundation
import Synchronization
import Testing

@testable import AgnostKnative

/// A folder under the system's temporary folder, removed by ``remove()``.
struct TemporaryFolder {
    let path: String

    init() throws {
        var template = Array(
            (NSTemporaryDirectory() as NSString).appendingPathComponent("agnost-kube-XXXXXX").utf8CString
        )
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        path = String(cString: made)
    }

    /// Writes `text` to `name` (folders created as needed) and returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true
        )
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

func withTemporaryFolder<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TemporaryFolder) async throws -> T
) async throws -> T {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    return try await body(folder)
}

/// PEM-shaped text: the loader checks the block, libcurl the content, which these tests do not reach.
let fakeCertificate = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
let fakeKey = "-----BEGIN EC PRIVATE KEY-----\nMHcfake\n-----END EC PRIVATE KEY-----\n"

func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// Resolves with no `KUBECONFIG` and no pod unless `environment` says otherwise.
func resolve(
    explicitPath: String? = nil,
    context: String? = nil,
    namespace: String? = nil,
    environment: [String: String] = [:],
    home: String = "/nonexistent-home",
    serviceAccountFolder: String = "/nonexistent-serviceaccount"
) throws(KubeconfigError) -> ClusterAccess {
    try KubeconfigLoader.resolve(
        explicitPath: explicitPath,
        context: context,
        namespace: namespace,
        environment: environment,
        homeDirectory: home,
        serviceAccountFolder: serviceAccountFolder
    )
}

func kubeconfigError(_ body: () throws(KubeconfigError) -> ClusterAccess) -> KubeconfigError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

@Suite("Kubeconfig")
struct KubeconfigTests {
    @Test("a KUBECONFIG list merges as kubectl does: the first file defining a name wins, missing files are skipped")
    func mergesKubeconfigList() async throws {
        try await withTemporaryFolder { folder in
            let first = try folder.write(
                "a/config",
                """
                apiVersion: v1
                kind: Config
                clusters:
                - name: shared
                  cluster: {server: "https://first.example:6443/"}
                users:
                - name: me
                  user: {token: first-token}
                contexts:
                - name: one
                  context: {cluster: shared, user: me}
                preferences: {}
                """
            )
            let second = try folder.write(
                "b/config",
                """
                apiVersion: v1
                kind: Config
                current-context: two
                clusters:
                - name: shared
                  cluster: {server: "https://second.example"}
                - name: other
                  cluster: {server: "other.example:8443"}
                users:
                - name: me
                  user: {token: second-token}
                - name: basic
                  user: {username: admin, password: hunter2}
                contexts:
                - name: two
                  context: {cluster: other, user: basic, namespace: apps}
                - name: one
                  context: {cluster: other, user: basic}
                """
            )
            let list = [folder.path + "/missing", first, second].joined(separator: ":")
            let environment = ["KUBECONFIG": list]

            // No file before the second sets current-context, so it comes from there.
            let current = try resolve(environment: environment)
            #expect(current.contextName == "two")
            #expect(current.server == "https://other.example:8443")
            #expect(current.namespace == "apps")
            guard case .basic(let username, let password) = current.credentials else {
                Issue.record("expected basic authentication, got \(current.credentials)")
                return
            }
            #expect(username == "admin" && password == "hunter2")

            // The first definitions of context "one", cluster "shared" and user "me" win.
            let one = try resolve(context: "one", environment: environment)
            #expect(one.server == "https://first.example:6443")
            #expect(one.namespace == "default")
            #expect(one.userName == "me")
            guard case .bearer(let token) = one.credentials else {
                Issue.record("expected a bearer token, got \(one.credentials)")
                return
            }
            #expect(token == "first-token")

            // A file earlier in the list that sets current-context wins over a later one.
            let withCurrent = try folder.write("c/config", "current-context: one\n")
            let reordered = try resolve(environment: ["KUBECONFIG": "\(withCurrent):\(first):\(second)"])
            #expect(reordered.contextName == "one")
        }
    }

    @Test("an explicit kubeconfig wins over KUBECONFIG and must exist; --context overrides current-context")
    func explicitPathAndContext() async throws {
        try await withTemporaryFolder { folder in
            let config = try folder.write(
                "explicit",
                """
                current-context: a
                clusters: [{name: c, cluster: {server: "https://explicit:6443"}}]
                contexts: [{name: a, context: {cluster: c}}, {name: b, context: {cluster: c, namespace: team}}]
                users: null
                """
            )
            let environment = ["KUBECONFIG": folder.path + "/nothing-here"]
            let access = try resolve(explicitPath: config, context: "b", environment: environment)
            #expect(access.server == "https://explicit:6443")
            #expect(access.contextName == "b")
            #expect(access.namespace == "team")
            #expect(access.userName == "(none)")
            guard case .none = access.credentials else {
                Issue.record("expected no credentials, got \(access.credentials)")
                return
            }
            let overridden = try resolve(explicitPath: config, context: "b", namespace: "mine")
            #expect(overridden.namespace == "mine")

            let missing = kubeconfigError { () throws(KubeconfigError) in
                try resolve(explicitPath: folder.path + "/absent")
            }
            #expect(missing?.code == .unreadable)
            #expect(missing?.message.contains(folder.path + "/absent") == true)
        }
    }

    @Test("an unknown context is an error listing the contexts defined")
    func unknownContext() async throws {
        try await withTemporaryFolder { folder in
            let config = try folder.write(
                "config",
                """
                clusters: [{name: c, cluster: {server: "https://k:6443"}}]
                contexts: [{name: kind-kind, context: {cluster: c}}, {name: prod, context: {cluster: c}}]
                """
            )
            let unknown = kubeconfigError { () throws(KubeconfigError) in
                try resolve(explicitPath: config, context: "staging")
            }
            #expect(unknown?.code == .unknownContext)
            #expect(unknown?.message.contains("\"staging\"") == true)
            #expect(unknown?.message.contains("kind-kind, prod") == true)
            // No current-context and none asked for.
            let unset = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: config) }
            #expect(unset?.code == .unknownContext)
            #expect(unset?.message.contains("no current-context") == true)
            #expect(unset?.message.contains("--") == false)
        }
    }

    @Test("relative paths resolve against the folder of the file that defined the entry")
    func relativePaths() async throws {
        try await withTemporaryFolder { folder in
            try folder.write("team/certs/ca.crt", fakeCertificate)
            try folder.write("team/certs/client.crt", fakeCertificate)
            try folder.write("team/certs/client.key", fakeKey)
            try folder.write("team/token", "file-token\n")
            try folder.write("team/bin/plugin", "#!/bin/sh\n")
            let team = try folder.write(
                "team/config",
                """
                clusters:
                - name: c
                  cluster: {server: "https://k:6443", certificate-authority: certs/ca.crt, tls-server-name: kube.test}
                users:
                - name: file
                  user: {tokenFile: token, client-certificate: certs/client.crt, client-key: certs/client.key}
                - name: plugin
                  user:
                    exec: {apiVersion: client.authentication.k8s.io/v1, command: bin/plugin, interactiveMode: Never}
                - name: onpath
                  user:
                    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin}
                """
            )
            let main = try folder.write(
                "main/config",
                """
                current-context: file
                contexts:
                - {name: file, context: {cluster: c, user: file}}
                - {name: plugin, context: {cluster: c, user: plugin}}
                - {name: onpath, context: {cluster: c, user: onpath}}
                """
            )
            let environment = ["KUBECONFIG": "\(main):\(team)"]
            let access = try resolve(environment: environment)
            let teamFolder = folder.path + "/team"
            #expect(access.tls.trustedCertificates == .file(teamFolder + "/certs/ca.crt"))
            #expect(access.tls.clientCertificate == .file(teamFolder + "/certs/client.crt"))
            #expect(access.tls.clientKey == .file(teamFolder + "/certs/client.key"))
            #expect(access.tls.serverName == "kube.test")
            guard case .tokenFile(let path) = access.credentials else {
                Issue.record("expected a token file, got \(access.credentials)")
                return
            }
            #expect(path == teamFolder + "/token")

            guard case .exec(let plugin) = try resolve(context: "plugin", environment: environment).credentials,
                case .exec(let onPath) = try resolve(context: "onpath", environment: environment).credentials
            else {
                Issue.record("expected exec plugins")
                return
            }
            #expect(plugin.command == teamFolder + "/bin/plugin")
            #expect(onPath.command == "gke-gcloud-auth-plugin")
            #expect(onPath.apiVersion == "client.authentication.k8s.io/v1beta1")

            try FileManager.default.removeItem(atPath: teamFolder + "/certs/client.key")
            let gone = kubeconfigError { () throws(KubeconfigError) in try resolve(environment: environment) }
            #expect(gone?.message.contains("client-key \(teamFolder)/certs/client.key cannot be read") == true)
            #expect(gone?.message.contains("\(team): user \"file\"") == true)
        }
    }

    @Test("certificate-authority-data and client certificate data are base64-decoded PEM")
    func certificateData() async throws {
        try await withTemporaryFolder { folder in
            func config(_ user: String, cluster: String = "") throws -> String {
                try folder.write(
                    "config",
                    """
                    current-context: x
                    clusters:
                    - name: c
                      cluster: {server: "https://k:6443", certificate-authority-data: "\(base64(fakeCertificate))"\(cluster)}
                    users: [{name: u, user: {\(user)}}]
                    contexts: [{name: x, context: {cluster: c, user: u}}]
                    """
                )
            }
            let both = try config(
                "client-certificate-data: \(base64(fakeCertificate)), client-key-data: \(base64(fakeKey))"
            )
            let access = try resolve(explicitPath: both)
            #expect(access.tls.trustedCertificates == .pem(Array(fakeCertificate.utf8)))
            #expect(access.tls.clientCertificate == .pem(Array(fakeCertificate.utf8)))
            #expect(access.tls.clientKey == .pem(Array(fakeKey.utf8)))
            #expect(!access.tls.insecureSkipVerify)

            let keyless = try config("client-certificate-data: \(base64(fakeCertificate))")
            let noKey = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: keyless) }
            #expect(noKey?.code == .invalidEntry)
            #expect(noKey?.message.contains("without its client-key") == true)

            let garbled = try config("client-certificate-data: \"not base64!\", client-key-data: \(base64(fakeKey))")
            let notBase64 = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: garbled) }
            #expect(notBase64?.message.contains("\(folder.path)/config: user \"u\": client-certificate-data") == true)

            let notPEM = try config("client-certificate-data: \(base64("hello")), client-key-data: \(base64(fakeKey))")
            let noBlock = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: notPEM) }
            #expect(noBlock?.message.contains("no PEM CERTIFICATE block") == true)

            let insecure = try config("token: t", cluster: ", insecure-skip-tls-verify: true")
            let both2 = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: insecure) }
            #expect(both2?.message.contains("insecure-skip-tls-verify and a certificate-authority") == true)

            let twoMethods = try config("token: t, username: u, password: p")
            let methods = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: twoMethods) }
            #expect(methods?.message.contains("more than one way to authenticate (token, username/password)") == true)
        }
    }

    @Test("interactive exec plugins, old auth providers and unsupported exec versions are refused with the reason")
    func unsupportedUsers() async throws {
        try await withTemporaryFolder { folder in
            let config = try folder.write(
                "config",
                """
                clusters: [{name: c, cluster: {server: "https://k:6443"}}]
                users:
                - {name: always, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: login,
                   interactiveMode: Always}}}
                - {name: gcp, user: {auth-provider: {name: gcp, config: {access-token: SECRET-gcp}}}}
                - {name: alpha, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: old}}}
                contexts:
                - {name: always, context: {cluster: c, user: always}}
                - {name: gcp, context: {cluster: c, user: gcp}}
                - {name: alpha, context: {cluster: c, user: alpha}}
                """
            )
            func message(_ context: String) -> String {
                kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: config, context: context) }?
                    .message ?? "accepted"
            }
            #expect(message("always").contains("needs a terminal (interactiveMode: Always)"))
            #expect(message("gcp").contains("uses auth-provider \"gcp\", which is not supported"))
            #expect(!message("gcp").contains("SECRET"))
            #expect(
                message("alpha").contains("exec apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported")
            )
        }
    }

    @Test("in a pod without a kubeconfig, the service account's token, CA and namespace are used")
    func inCluster() async throws {
        try await withTemporaryFolder { folder in
            let account = folder.path + "/serviceaccount"
            try folder.write("serviceaccount/token", "pod-token\n")
            try folder.write("serviceaccount/ca.crt", fakeCertificate)
            try folder.write("serviceaccount/namespace", "apps\n")
            let environment = ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"]
            let access = try resolve(environment: environment, home: folder.path, serviceAccountFolder: account)
            #expect(access.server == "https://10.96.0.1:443")
            #expect(access.namespace == "apps")
            #expect(access.contextName == "in-cluster")
            #expect(access.tls.trustedCertificates == .file(account + "/ca.crt"))
            guard case .tokenFile(let path) = access.credentials else {
                Issue.record("expected the token file, got \(access.credentials)")
                return
            }
            #expect(path == account + "/token")
            let provider = CredentialProvider(access: access)
            #expect(try await provider.authentication().authorization == "Bearer pod-token")

            let explicit = try resolve(
                namespace: "other",
                environment: environment,
                home: folder.path,
                serviceAccountFolder: account
            )
            #expect(explicit.namespace == "other")
            let ipv6 = try resolve(
                environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
                serviceAccountFolder: account
            )
            #expect(ipv6.server == "https://[fd00::1]:443")

            // A kubeconfig in the home folder wins over the pod.
            try folder.write(
                ".kube/config",
                """
                current-context: x
                clusters: [{name: c, cluster: {server: "https://home:6443"}}]
                contexts: [{name: x, context: {cluster: c}}]
                """
            )
            let home = try resolve(environment: environment, home: folder.path, serviceAccountFolder: account)
            #expect(home.server == "https://home:6443")
        }
    }

    @Test("without a kubeconfig or a pod, the error says what to provide")
    func noConfiguration() throws {
        let error = kubeconfigError { () throws(KubeconfigError) in try resolve() }
        #expect(error?.code == .noConfiguration)
        #expect(error?.message.contains("/nonexistent-home/.kube/config does not exist") == true)
        #expect(error?.message.contains("set KUBECONFIG") == true)
        #expect(error?.message.contains("--") == false)
        let list = kubeconfigError { () throws(KubeconfigError) in
            try resolve(environment: ["KUBECONFIG": "/nope/a:/nope/b"])
        }
        #expect(list?.message.contains("none of the files in KUBECONFIG (/nope/a, /nope/b) exists") == true)
    }

    @Test("malformed files are named with the field at fault, never quoting a value")
    func malformed() async throws {
        try await withTemporaryFolder { folder in
            let broken = try folder.write("broken", "users:\n- name: u\n  user: {token: very-secret-token\n")
            let yaml = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: broken) }
            #expect(yaml?.code == .malformed)
            #expect(
                yaml?.message.hasPrefix("\(broken) is not valid YAML (line 4, column 1: ") == true,
                "\(yaml?.message ?? "")"
            )
            #expect(yaml?.message.contains("very-secret-token") == false)

            let shape = try folder.write("shape", "users:\n- name: u\n  user: {token: [very-secret-token]}\n")
            let typed = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: shape) }
            #expect(typed?.message == "\(shape): users[0].user.token should be a single value, such as a string")

            let server = try folder.write(
                "server",
                "current-context: x\nclusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\n"
            )
            let noServer = kubeconfigError { () throws(KubeconfigError) in try resolve(explicitPath: server) }
            #expect(noServer?.message == "\(server): cluster \"c\" has no server; set its server URL")
        }
    }

    @Test("no description, mirror or error shows a token, password, key or plugin environment value")
    func secretsStayOut() async throws {
        try await withTemporaryFolder { folder in
            let config = try folder.write(
                "config",
                """
                current-context: basic
                clusters: [{name: c, cluster: {server: "https://k:6443"}}]
                users:
                - {name: basic, user: {username: admin, password: pass-SECRET-1}}
                - {name: token, user: {token: token-SECRET-2, client-certificate-data: \(base64(fakeCertificate)),
                   client-key-data: \(base64(fakeKey))}}
                - name: plugin
                  user:
                    exec:
                      apiVersion: client.authentication.k8s.io/v1
                      command: plugin
                      env: [{name: API_KEY, value: env-SECRET-3}]
                contexts:
                - {name: basic, context: {cluster: c, user: basic}}
                - {name: token, context: {cluster: c, user: token}}
                - {name: plugin, context: {cluster: c, user: plugin}}
                """
            )
            var shown: [String] = []
            for context in ["basic", "token", "plugin"] {
                let access = try resolve(explicitPath: config, context: context)
                var dumped = ""
                dump(access, to: &dumped)
                shown += [String(describing: access), String(reflecting: access), dumped]
                let authentication = try? await CredentialProvider(access: access).authentication()
                var dumpedAuthentication = ""
                dump(authentication, to: &dumpedAuthentication)
                shown += [String(describing: authentication), dumpedAuthentication]
            }
            var dumpedConfig = ""
            dump(try KubeconfigLoader.load(config).config, to: &dumpedConfig)
            shown.append(dumpedConfig)
            for text in shown {
                #expect(!text.contains("SECRET"), "\(text)")
                #expect(!text.contains("MIIB") && !text.contains("MHc"), "\(text)")
            }
        }
    }
}

@Suite("Kubeconfig credentials")
struct KubeconfigCredentialTests {
    static let plugin = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kubeconfig/exec-plugin.sh").path

    /// A clock the test moves.
    final class Clock: Sendable {
        private let time = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
    }

    func access(_ credentials: ClusterAccess.Credentials) -> ClusterAccess {
        ClusterAccess(
            server: "https://k:6443",
            contextName: "ctx",
            userName: "me",
            credentials: credentials,
            source: "test"
        )
    }

    func runs(_ file: String) -> Int {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test("a token file is re-read when it changes, after a minute, and after a 401")
    func tokenRotation() async throws {
        try await withTemporaryFolder { folder in
            let path = try folder.write("token", "first\n")
            let clock = Clock()
            let provider = CredentialProvider(access: access(.tokenFile(path: path)), now: { clock.now })
            let first = try await provider.authentication()
            #expect(first.authorization == "Bearer first")

            // The kubelet replaces the file: the size changes, so it is read again at once.
            try folder.write("token", "second-token\n")
            #expect(try await provider.authentication().authorization == "Bearer second-token")

            // Same size and a restored modification time: only the minute makes it look again.
            try folder.write("token", "third--token\n")
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000)],
                ofItemAtPath: path
            )
            let cached = try await provider.authentication()
            try folder.write("token", "fourth-token\n")
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000)],
                ofItemAtPath: path
            )
            #expect(try await provider.authentication() == cached)
            clock.advance(61)
            #expect(try await provider.authentication().authorization == "Bearer fourth-token")

            // A 401 makes it look again; the same token again means retrying cannot help.
            let refused = try await provider.authentication()
            #expect(await provider.refresh(afterRefusing: refused) == false)
            try folder.write("token", "fifth\n")
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_000)],
                ofItemAtPath: path
            )
            #expect(await provider.refresh(afterRefusing: refused) == true)
            #expect(try await provider.authentication().authorization == "Bearer fifth")

            // While the file is replaced (empty for a moment), the last token stays in use.
            try folder.write("token", "")
            clock.advance(61)
            #expect(try await provider.authentication().authorization == "Bearer fifth")
        }
    }

    func execAccess(
        _ folder: TemporaryFolder,
        mode: String = "",
        expiration: String = "",
        installHint: String? = nil,
        command: String = plugin,
        cluster: ClusterAccess.ClusterInfo? = nil
    ) -> ClusterAccess {
        access(
            .exec(
                ClusterAccess.ExecPlugin(
                    apiVersion: "client.authentication.k8s.io/v1",
                    command: command,
                    environment: [
                        ("AGNOST_TEST_RUNS", folder.path + "/runs"), ("AGNOST_TEST_MODE", mode),
                        ("AGNOST_TEST_EXPIRATION", expiration),
                    ],
                    installHint: installHint,
                    cluster: cluster
                )
            )
        )
    }

    @Test("an exec plugin's token is cached until its expiry, then and after a 401 the plugin runs again")
    func execPluginCaching() async throws {
        try await withTemporaryFolder { folder in
            let clock = Clock()
            // 2027-01-15T08:00:00Z, an hour after the clock's start.
            let expiry = Date(timeIntervalSince1970: 1_800_003_600)
            let formatter = ISO8601DateFormatter()
            let access = execAccess(folder)
            try folder.write("runs.expiration", formatter.string(from: expiry))
            let provider = CredentialProvider(access: access, now: { clock.now })
            let runs = folder.path + "/runs"

            #expect(try await provider.authentication().authorization == "Bearer token-1")
            #expect(try await provider.authentication().authorization == "Bearer token-1")
            #expect(self.runs(runs) == 1)

            clock.advance(3599)
            #expect(try await provider.authentication().authorization == "Bearer token-1")
            #expect(self.runs(runs) == 1)
            clock.advance(2)
            // From now on the plugin's credentials expire three hours after the clock's start.
            try folder.write("runs.expiration", formatter.string(from: expiry + 7200))
            #expect(try await provider.authentication().authorization == "Bearer token-2")
            #expect(self.runs(runs) == 2)

            // A 401 on the current token: run again; a second report of the same refusal runs nothing more.
            let refused = try await provider.authentication()
            #expect(await provider.refresh(afterRefusing: refused))
            #expect(await provider.refresh(afterRefusing: refused))
            #expect(try await provider.authentication().authorization == "Bearer token-3")
            #expect(self.runs(runs) == 3)

            // Concurrent requests share one run.
            clock.advance(7200)
            async let a = provider.authentication()
            async let b = provider.authentication()
            let (first, second) = try await (a, b)
            #expect(first == second)
            #expect(self.runs(runs) == 4)

            // The plugin saw KUBERNETES_EXEC_INFO, without a cluster as provideClusterInfo was not set.
            let info = try String(contentsOfFile: runs + ".info", encoding: .utf8)
            #expect(info.contains(#""kind":"ExecCredential""#))
            #expect(info.contains(#""interactive":false"#))
            #expect(!info.contains("cluster"))
        }
    }

    @Test("provideClusterInfo passes the server and CA in KUBERNETES_EXEC_INFO")
    func execClusterInfo() async throws {
        try await withTemporaryFolder { folder in
            let cluster = ClusterAccess.ClusterInfo(
                server: "https://k:6443",
                tlsServerName: "kube.test",
                certificateAuthorityData: Array(fakeCertificate.utf8)
            )
            let provider = CredentialProvider(access: execAccess(folder, cluster: cluster))
            _ = try await provider.authentication()
            let info = try String(contentsOfFile: folder.path + "/runs.info", encoding: .utf8)
            let document = try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any]
            let spec = document?["spec"] as? [String: Any]
            let sent = spec?["cluster"] as? [String: Any]
            #expect(sent?["server"] as? String == "https://k:6443")
            #expect(sent?["tls-server-name"] as? String == "kube.test")
            #expect(sent?["certificate-authority-data"] as? String == base64(fakeCertificate))
        }
    }

    @Test("a failing plugin's error shows its stderr and install hint, never its stdout")
    func failingPlugin() async throws {
        try await withTemporaryFolder { folder in
            let provider = CredentialProvider(
                access: execAccess(folder, mode: "fail", installHint: "Install it from https://example.com/plugin")
            )
            do throws(KubeconfigError) {
                _ = try await provider.authentication()
                Issue.record("the failing plugin was accepted")
            } catch {
                #expect(error.code == .credentialPlugin)
                #expect(error.message.contains("failed with exit status 3"))
                #expect(error.message.contains("error: the identity provider refused the refresh token"))
                #expect(error.message.contains("(user me, context ctx)"))
                #expect(error.message.contains("Install it from https://example.com/plugin"))
                #expect(!error.message.contains("stdout-secret-token"))
            }

            let missing = CredentialProvider(
                access: execAccess(folder, installHint: "brew install kubelogin", command: "no-such-plugin-xyz")
            )
            do throws(KubeconfigError) {
                _ = try await missing.authentication()
                Issue.record("a missing plugin was accepted")
            } catch {
                #expect(error.message.contains("no-such-plugin-xyz of user me, context ctx was not found on PATH"))
                #expect(error.message.contains("brew install kubelogin"))
            }
        }
    }

    @Test("an ExecCredential must have the kind, the apiVersion asked for, a credential and an RFC 3339 expiry")
    func execCredentialDecoding() throws {
        let v1 = "client.authentication.k8s.io/v1"
        func decode(_ text: String) -> KubeconfigError? {
            do throws(KubeconfigError) {
                _ = try ExecCredential.decode(Data(text.utf8), apiVersion: v1, plugin: "p")
                return nil
            } catch {
                return error
            }
        }
        let good = try ExecCredential.decode(
            Data(
                #"{"kind":"ExecCredential","apiVersion":"\#(v1)","status":{"token":"t","expirationTimestamp":"2026-01-02T03:04:05.5Z"}}"#
                    .utf8
            ),
            apiVersion: v1,
            plugin: "p"
        )
        #expect(good.token == "t")
        #expect(good.expiration == Date(timeIntervalSince1970: 1_767_323_045.5))
        #expect(decode("SECRET-not-json")?.message.contains("printed no ExecCredential JSON") == true)
        #expect(decode("SECRET-not-json")?.message.contains("SECRET") == false)
        let beta =
            #"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}"#
        #expect(decode(beta)?.message.contains("apiVersion \"client.authentication.k8s.io/v1beta1\"") == true)
        let empty = #"{"kind":"ExecCredential","apiVersion":"\#(v1)","status":{"clientCertificateData":"c"}}"#
        #expect(decode(empty)?.message.contains("neither a status.token nor both") == true)
        let when =
            #"{"kind":"ExecCredential","apiVersion":"\#(v1)","status":{"token":"t","expirationTimestamp":"soon"}}"#
        #expect(decode(when)?.message.contains("\"soon\", which is not an RFC 3339 time") == true)
    }

    @Test("a plugin that hangs is killed at its deadline")
    func hangingPlugin() async throws {
        try await withTemporaryFolder { folder in
            let provider = CredentialProvider(access: execAccess(folder, mode: "hang"), pluginTimeout: .seconds(1))
            let started = ContinuousClock.now
            do throws(KubeconfigError) {
                _ = try await provider.authentication()
                Issue.record("the hanging plugin returned")
            } catch {
                #expect(error.message.contains("did not finish within 1 s and was stopped"))
            }
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }
}
