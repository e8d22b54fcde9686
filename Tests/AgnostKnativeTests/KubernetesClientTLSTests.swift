import AgnostHTTP
import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostKnative

extension TestPKI {
    /// A server certificate for `127.0.0.1` and `kube.test`, and a client certificate for the user `tls-user`.
    static func kube(in folder: TemporaryFolder) throws -> TestPKI {
        try TestPKI(
            in: URL(fileURLWithPath: folder.path),
            leaves: [
                .server("server", commonName: "kube", subjectAltName: "IP:127.0.0.1,DNS:kube.test"),
                .client("client", subject: "/CN=tls-user"),
            ]
        )
    }
}

/// `Fixtures/kubeconfig/tls_server.py`, running for one test: it answers each GET with a Secret named after the
/// client certificate's common name.
func withTLSServer<T>(
    _ pki: TestPKI,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/kubeconfig/tls_server.py").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", script, "--cert", pki.path("server.crt"), "--key", pki.path("server.key"), "--client-ca",
        pki.path("ca.crt"), "--deadline", "300",
    ]
    // The server exits when its stdin closes, so it cannot outlive a test process that crashed.
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    let deadline = ProcessDeadline(process, after: .seconds(300))
    defer {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        deadline.cancel()
    }
    var line = Data()
    while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
        line += byte
    }
    guard let port = Int(String(decoding: line, as: UTF8.self)) else {
        throw FixtureFailure("tls_server.py printed no port")
    }
    return try await body(port)
}

@Suite("Kubernetes client TLS")
struct KubernetesClientTLSTests {
    func kubeconfig(
        _ folder: TemporaryFolder,
        port: Int,
        ca: String,
        user: String,
        cluster: String = ""
    ) throws
        -> String
    {
        let authority = Data(try String(contentsOfFile: folder.path + "/" + ca, encoding: .utf8).utf8)
            .base64EncodedString()
        return try folder.write(
            "config",
            """
            current-context: tls
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:\(port)", certificate-authority-data: \(authority)\(cluster)}
            users: [{name: u, user: {\(user)}}]
            contexts: [{name: tls, context: {cluster: c, user: u}}]
            """
        )
    }

    func client(_ config: String, retryPolicy: RetryPolicy = RetryPolicy()) throws -> KubernetesClient {
        let access = try KubeconfigLoader.resolve(
            explicitPath: config,
            context: nil,
            namespace: nil,
            environment: [:],
            homeDirectory: "/nonexistent"
        )
        return KubernetesClient(access: access, retryPolicy: retryPolicy)
    }

    func secretName(_ object: [UInt8]?) -> String? { object.flatMap(ObjectMeta.decode)?.name }

    @Test("the kubeconfig's CA data verifies the server, and its client certificate data authenticates")
    func certificateAuthorityAndClientCertificate() async throws {
        try await withTemporaryFolder { folder in
            let pki = try TestPKI.kube(in: folder)
            try await withTLSServer(pki) { port in
                let user =
                    "client-certificate-data: \(base64(try pki.text("client.crt"))), "
                    + "client-key-data: \(base64(try pki.text("client.key")))"
                let config = try kubeconfig(folder, port: port, ca: "ca.crt", user: user)
                let object = try await client(config).get(type: .secret, name: "any", namespace: "default")
                #expect(secretName(object) == "tls-user")

                // The name checked can differ from the address: the certificate is for kube.test too.
                let named = try kubeconfig(
                    folder,
                    port: port,
                    ca: "ca.crt",
                    user: "token: t",
                    cluster: ", tls-server-name: kube.test"
                )
                #expect(secretName(try await client(named).get(type: .secret, name: "any", namespace: "d")) != nil)
            }
        }
    }

    @Test("a CA that does not verify the server is said so, at once and without retries")
    func wrongCertificateAuthority() async throws {
        try await withTemporaryFolder { folder in
            let pki = try TestPKI.kube(in: folder)
            try await withTLSServer(pki) { port in
                let config = try kubeconfig(folder, port: port, ca: "other-ca.crt", user: "token: SECRET-TOKEN-tls")
                // Retries would pause 30 s each: the failure must come well before the first pause ends, however
                // loaded the machine is.
                let patient = RetryPolicy(
                    maximumAttempts: 4,
                    initialBackoff: .seconds(30),
                    maximumBackoff: .seconds(30),
                    jitter: .none
                )
                let client = try client(config, retryPolicy: patient)
                let started = ContinuousClock.now
                let error = await kubernetesError { () async throws(KubernetesError) in
                    try await client.get(type: .secret, name: "any", namespace: "default")
                }
                #expect(ContinuousClock.now - started < .seconds(20))
                #expect(error?.code == .certificate)
                #expect(
                    error?.message.hasPrefix(
                        "the certificate authority of context tls (kubeconfig \(config)) does not verify the "
                            + "Kubernetes API server at https://127.0.0.1:\(port) ("
                    ) == true
                )
                #expect(error?.message.contains("SECRET") == false)
            }
        }
    }

    @Test("a client certificate printed by an exec plugin is presented to the server")
    func execPluginClientCertificate() async throws {
        try await withTemporaryFolder { folder in
            let pki = try TestPKI.kube(in: folder)
            try await withTLSServer(pki) { port in
                let user = """
                    exec: {apiVersion: client.authentication.k8s.io/v1, command: \(KubeconfigCredentialTests.plugin),
                      interactiveMode: Never, env: [{name: AGNOST_TEST_RUNS, value: \(folder.path)/runs},
                      {name: AGNOST_TEST_MODE, value: certificate},
                      {name: AGNOST_TEST_CERTIFICATE, value: \(pki.path("client.crt"))},
                      {name: AGNOST_TEST_KEY, value: \(pki.path("client.key"))}]}
                    """
                let config = try kubeconfig(folder, port: port, ca: "ca.crt", user: user)
                let object = try await client(config).get(type: .secret, name: "any", namespace: "default")
                #expect(secretName(object) == "tls-user")
            }
        }
    }
}
