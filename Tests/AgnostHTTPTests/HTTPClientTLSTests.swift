import AgnostHTTP
import Foundation
import Testing

/// The TLS settings against a real TLS server (Python's `ssl`) with certificates made by `openssl` for each test.
@Suite struct HTTPClientTLSTests {
    private func client(_ tls: HTTPClient.TLS) throws -> HTTPClient {
        try HTTPClient(configuration: HTTPClient.Configuration(tls: tls))
    }

    @Test func aCAGivenAsPEMBytesIsTrusted() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: pki.server) { server in
                let client = try client(HTTPClient.TLS(trustedCertificates: .pem(pki.bytes(pki.caCertificate))))
                let response = try await client.execute(HTTPClientRequest(url: server.url("/status/200")))
                #expect(response.status == 200)
                #expect(response.bodyText == "status 200")
            }
        }
    }

    @Test func aCAGivenAsAFileIsTrusted() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: pki.server) { server in
                let client = try client(HTTPClient.TLS(trustedCertificates: .file(pki.caCertificate)))
                #expect(try await client.execute(HTTPClientRequest(url: server.url("/status/200"))).status == 200)
                // The synchronous API shares the settings.
                #expect(try client.send(HTTPClientRequest(url: server.url("/status/201"))).status == 201)
            }
        }
    }

    @Test func aServerCertificateFromAnotherCAIsACertificateProblemAndNotRetried() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: pki.server) { server in
                let client = try client(HTTPClient.TLS(trustedCertificates: .file(pki.otherCACertificate)))
                var attempts = 0
                let error = await #expect(throws: HTTPClientError.self) {
                    try await RetryPolicy(maximumAttempts: 5).run(sleep: { _ in }) { _ in
                        attempts += 1
                        return try await client.execute(HTTPClientRequest(url: server.url("/status/200")))
                    }
                }
                #expect(attempts == 1)
                #expect(error?.code == .certificateRejected)
                #expect(error?.isRetryable == false)
                #expect(error?.message.hasPrefix("certificate problem: the TLS certificate of ") == true)
                #expect(error?.message.contains("trusted certificate authorities") == true)
                #expect(error?.cause?.curlCode == 60)
            }
        }
    }

    @Test func theConfiguredCAReplacesTheSystemBundleAndTheSystemBundleDoesNotKnowTheTestCA() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: pki.server) { server in
                let error = await #expect(throws: HTTPClientError.self) {
                    try await HTTPClient().execute(HTTPClientRequest(url: server.url("/status/200")))
                }
                #expect(error?.code == .certificateRejected)
            }
        }
    }

    @Test func insecureSkipVerifyAcceptsAnyCertificate() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: ServerTLS(certificate: pki.kubeCertificate, key: pki.kubeKey)) { server in
                // Neither the issuer is trusted nor does the certificate name 127.0.0.1.
                let client = try client(HTTPClient.TLS(insecureSkipVerify: true))
                #expect(try await client.execute(HTTPClientRequest(url: server.url("/status/200"))).status == 200)
            }
        }
    }

    @Test func aClientCertificateIsPresentedWhenTheServerRequiresOne() async throws {
        try await withTestPKI { pki in
            var tls = pki.server
            tls.clientCA = pki.caCertificate
            try await withTestServer(tls: tls) { server in
                let fromBytes = try client(
                    HTTPClient.TLS(
                        trustedCertificates: .pem(pki.bytes(pki.caCertificate)),
                        clientCertificate: .pem(pki.bytes(pki.clientCertificate)),
                        clientKey: .pem(pki.bytes(pki.clientKey))
                    )
                )
                let response = try await fromBytes.execute(HTTPClientRequest(url: server.url("/peer")))
                #expect(response.status == 200)
                #expect(response.bodyText == "agnost-client")

                let fromFiles = try client(
                    HTTPClient.TLS(
                        trustedCertificates: .file(pki.caCertificate),
                        clientCertificate: .file(pki.clientCertificate),
                        clientKey: .file(pki.clientKey)
                    )
                )
                #expect(
                    try await fromFiles.execute(HTTPClientRequest(url: server.url("/peer"))).bodyText == "agnost-client"
                )

                let without = try client(HTTPClient.TLS(trustedCertificates: .file(pki.caCertificate)))
                let error = await #expect(throws: HTTPClientError.self) {
                    try await without.execute(HTTPClientRequest(url: server.url("/peer")))
                }
                #expect(error?.code == .tls)
                #expect(error?.isRetryable == false)
                #expect(error?.message.contains("the server refused the client certificate, or needs one") == true)
            }
        }
    }

    @Test func theServerNameOverrideIsWhatTheCertificateIsCheckedAgainst() async throws {
        try await withTestPKI { pki in
            try await withTestServer(tls: ServerTLS(certificate: pki.kubeCertificate, key: pki.kubeKey)) { server in
                let ca = try pki.bytes(pki.caCertificate)
                let plain = try client(HTTPClient.TLS(trustedCertificates: .pem(ca)))
                let mismatch = await #expect(throws: HTTPClientError.self) {
                    try await plain.execute(HTTPClientRequest(url: server.url("/echo")))
                }
                #expect(mismatch?.code == .certificateRejected)

                let overridden = try client(HTTPClient.TLS(trustedCertificates: .pem(ca), serverName: "kube.test"))
                let response = try await overridden.execute(HTTPClientRequest(url: server.url("/echo?x=1")))
                #expect(response.status == 200)
                let echo = try Echo(response)
                // Connected to 127.0.0.1, and said so in Host; only TLS used kube.test.
                #expect(echo.headers("Host") == ["127.0.0.1:\(server.port)"])
                #expect(echo.query == "x=1")

                let wrong = try client(HTTPClient.TLS(trustedCertificates: .pem(ca), serverName: "other.test"))
                let refused = await #expect(throws: HTTPClientError.self) {
                    try await wrong.execute(HTTPClientRequest(url: server.url("/echo")))
                }
                #expect(refused?.code == .certificateRejected)
                #expect(refused?.url == server.url("/echo"))
                #expect(refused?.message.contains("certificate problem") == true)
            }
        }
    }

    @Test func unusablePEMSettingsAreRejectedNamingTheFieldAndNeverTheBytes() async throws {
        try await withTestPKI { pki in
            let key = try pki.bytes(pki.clientKey)
            let keyText = String(decoding: key, as: UTF8.self)
            let cases: [(HTTPClient.TLS, String)] = [
                (HTTPClient.TLS(trustedCertificates: .pem(Array("not a certificate".utf8))), "tls.trustedCertificates"),
                (HTTPClient.TLS(trustedCertificates: .file(pki.path("missing.crt"))), "missing.crt"),
                (HTTPClient.TLS(clientCertificate: .pem(key), clientKey: .pem(key)), "tls.clientCertificate"),
                (HTTPClient.TLS(clientKey: .pem(key)), "tls.clientKey is set without tls.clientCertificate"),
                (HTTPClient.TLS(serverName: "kube.test:443"), "tls.serverName"),
            ]
            for (tls, named) in cases {
                let error = #expect(throws: HTTPClientError.self) { try client(tls) }
                #expect(error?.code == .invalidConfiguration)
                #expect(error?.message.contains(named) == true, "\(error?.message ?? "")")
                #expect(error?.message.contains("PRIVATE KEY-----") == false)
            }
            let tls = HTTPClient.TLS(
                clientCertificate: .pem(try pki.bytes(pki.clientCertificate)),
                clientKey: .pem(key)
            )
            for text in ["\(tls)", String(reflecting: tls), "\(HTTPClient.PEMSource.pem(key))"] {
                #expect(!text.contains(keyText.split(separator: "\n")[1]))
            }
            var dumped = ""
            dump(tls, to: &dumped)
            #expect(!dumped.contains(keyText.split(separator: "\n")[1]))
            #expect("\(tls)".contains("clientKey: PEM (\(key.count) bytes)"))
        }
    }
}
