import Foundation

/// Certificates made with the `openssl` command in a folder of a test's: a CA (`ca.crt`), an unrelated CA
/// (`other-ca.crt`) and the leaf certificates asked for (`NAME.crt`, `NAME.key`), all issued by the CA. Keys are
/// P-256, which `openssl` makes in milliseconds where RSA takes most of a second each.
///
/// ```swift
/// let pki = try TestPKI(in: folder, leaves: [.server("server", commonName: "kube", subjectAltName: "IP:127.0.0.1")])
/// let server = (pki.certificate("server"), pki.key("server"))
/// ```
public struct TestPKI: Sendable {
    /// A certificate to issue.
    public struct Leaf: Sendable {
        let name: String
        let subject: String
        let extensions: String
        let subjectAltName: String

        /// A server certificate for the names and addresses of `subjectAltName` (`IP:127.0.0.1,DNS:kube.test`).
        public static func server(_ name: String, commonName: String, subjectAltName: String) -> Leaf {
            Leaf(name: name, subject: "/CN=\(commonName)", extensions: "server", subjectAltName: subjectAltName)
        }

        /// A client certificate; `subject` is the whole subject, such as `/CN=cert-user/O=deployers`.
        public static func client(_ name: String, subject: String) -> Leaf {
            Leaf(name: name, subject: subject, extensions: "client", subjectAltName: "DNS:unused")
        }
    }

    public let directory: URL

    public var caCertificate: String { path("ca.crt") }
    public var otherCACertificate: String { path("other-ca.crt") }
    public func certificate(_ leaf: String) -> String { path("\(leaf).crt") }
    public func key(_ leaf: String) -> String { path("\(leaf).key") }
    public func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    public func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

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

    /// Makes the CAs and `leaves` in `directory`, which must exist; without `openssl` it fails, naming its package.
    public init(in directory: URL, leaves: [Leaf]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw FixtureFailure("/usr/bin/openssl is missing; install the Debian package openssl")
        }
        self.directory = directory
        try Self.configuration.write(
            to: directory.appendingPathComponent("openssl.cnf"),
            atomically: true,
            encoding: .utf8
        )
        for name in ["ca", "other-ca"] + leaves.map(\.name) {
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "\(name).key"])
        }
        for (name, subject) in [("ca", "agnost-test-ca"), ("other-ca", "other-test-ca")] {
            try openssl([
                "req", "-new", "-x509", "-config", "openssl.cnf", "-extensions", "ca", "-key", "\(name).key",
                "-subj", "/CN=\(subject)", "-days", "2", "-out", "\(name).crt",
            ])
        }
        for leaf in leaves {
            try openssl([
                "req", "-new", "-config", "openssl.cnf", "-key", "\(leaf.name).key", "-subj", leaf.subject, "-out",
                "\(leaf.name).csr",
            ])
            try openssl(
                [
                    "x509", "-req", "-in", "\(leaf.name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial",
                    "\(Int.random(in: 1...Int(Int32.max)))", "-days", "2", "-extfile", "openssl.cnf", "-extensions",
                    leaf.extensions, "-out", "\(leaf.name).crt",
                ],
                san: leaf.subjectAltName
            )
        }
    }

    private func openssl(_ arguments: [String], san: String = "DNS:unused") throws {
        let (status, output) = try Tool.run(
            "/bin/sh",
            ["-c", "cd \"$0\" && exec /usr/bin/openssl \"$@\"", directory.path] + arguments,
            environment: ["SAN": san, "PATH": "/usr/bin:/bin"],
            timeout: .seconds(30)
        )
        guard status == 0 else {
            throw FixtureFailure("openssl \(arguments.joined(separator: " ")) failed: \(output)")
        }
    }
}
