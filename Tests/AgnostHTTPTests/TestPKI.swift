import AgnostTestSupport
import Foundation

/// The certificates of the HTTP client's TLS tests: a server certificate for `127.0.0.1` and `agnost.test`, one
/// for `kube.test` only, and a client certificate named `agnost-client`, beside the shared PKI's two CAs.
extension TestPKI {
    static let httpLeaves: [Leaf] = [
        .server("server", commonName: "agnost.test", subjectAltName: "IP:127.0.0.1,DNS:agnost.test"),
        .server("kube", commonName: "kube.test", subjectAltName: "DNS:kube.test"),
        .client("client", subject: "/CN=agnost-client"),
    ]

    var serverCertificate: String { certificate("server") }
    var serverKey: String { key("server") }
    var kubeCertificate: String { certificate("kube") }
    var kubeKey: String { key("kube") }
    var clientCertificate: String { certificate("client") }
    var clientKey: String { key("client") }

    var server: ServerTLS { ServerTLS(certificate: serverCertificate, key: serverKey) }

    func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: path)))
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
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "agnost-http-pki-\(UUID().uuidString)"
    )
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(try TestPKI(in: directory, leaves: TestPKI.httpLeaves))
}
