import Foundation

/// Certificates made with the `openssl` command for one test, in a temporary folder removed afterwards: a CA, an
/// unrelated CA, a server certificate for `127.0.0.1` and `agnost.test`, one for `kube.test` only, and a client
/// certificate named `agnost-client`, all issued by the CA. Keys are P-256, which `openssl` makes in milliseconds.
struct TestPKI {
    let directory: URL

    var caCertificate: String { path("ca.crt") }
    var otherCACertificate: String { path("other-ca.crt") }
    var serverCertificate: String { path("server.crt") }
    var serverKey: String { path("server.key") }
    var kubeCertificate: String { path("kube.crt") }
    var kubeKey: String { path("kube.key") }
    var clientCertificate: String { path("client.crt") }
    var clientKey: String { path("client.key") }

    var server: ServerTLS { ServerTLS(certificate: serverCertificate, key: serverKey) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Extensions for each kind of certificate; the SAN comes from the environment, as it differs per server.
    private static let configuration = """
        [req]
        distinguished_name = dn
        prompt = no
        [dn]
        CN = unused
        [ca]
        basicConstraints = critical,CA:TRUE
        keyUsage = critical,keyCertSign,cRLSign
        subjectKeyIdentifier = hash
        [server]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = serverAuth
        subjectAltName = $ENV::SAN
        [client]
        basicConstraints = critical,CA:FALSE
        keyUsage = critical,digitalSignature
        extendedKeyUsage = clientAuth

        """

    fileprivate func make() throws {
        try Self.configuration.write(
            to: directory.appendingPathComponent("openssl.cnf"),
            atomically: true,
            encoding: .utf8
        )
        for name in ["ca", "other-ca", "server", "kube", "client"] {
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"])
        }
        for (name, subject) in [("ca", "agnost-test-ca"), ("other-ca", "other-test-ca")] {
            try openssl([
                "req", "-new", "-x509", "-config", "openssl.cnf", "-extensions", "ca", "-key", "\(name).key",
                "-subj", "/CN=\(subject)", "-days", "2", "-out", "\(name).crt",
            ])
        }
        try issue("server", subject: "agnost.test", extensions: "server", san: "IP:127.0.0.1,DNS:agnost.test")
        try issue("kube", subject: "kube.test", extensions: "server", san: "DNS:kube.test")
        try issue("client", subject: "agnost-client", extensions: "client")
    }

    private func issue(_ name: String, subject: String, extensions: String, san: String = "DNS:unused") throws {
        try openssl(
            [
                "req", "-new", "-config", "openssl.cnf", "-key", "\(name).key", "-subj", "/CN=\(subject)", "-out",
                "\(name).csr",
            ]
        )
        try openssl(
            [
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
                "\(Int.random(in: 1...Int(Int32.max)))", "-days", "2", "-extfile", "openssl.cnf", "-extensions",
                extensions, "-out", "\(name).crt",
            ],
            san: san
        )
    }

    private func openssl(_ arguments: [String], san: String = "DNS:unused") throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["SAN": san, "PATH": "/usr/bin:/bin"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try waitForExit(process, within: .seconds(20), what: "openssl \(arguments[0])")
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw FixtureError(description: "openssl \(arguments.joined(separator: " ")) failed: \(message)")
        }
    }
}

/// Waits for `process` to exit, killing it once `limit` has passed.
func waitForExit(_ process: Process, within limit: Duration, what: String) throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while process.isRunning {
        guard clock.now < deadline else {
            process.terminate()
            process.waitUntilExit()
            throw FixtureError(description: "\(what) did not finish within \(limit)")
        }
        usleep(10_000)
    }
}

/// Runs `body` with fresh certificates, removed afterwards. Without `openssl` the test fails, naming its package.
func withTestPKI<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestPKI) async throws -> T
) async throws -> T {
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
        throw FixtureError(description: "/usr/bin/openssl is missing; install the Debian package openssl")
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-http-pki-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    let pki = TestPKI(directory: directory)
    try pki.make()
    return try await body(pki)
}
