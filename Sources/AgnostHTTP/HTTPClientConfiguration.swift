#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

extension HTTPClient {
    /// What every request of one ``HTTPClient`` shares: the response size limit and the TLS settings.
    ///
    /// ```swift
    /// var configuration = HTTPClient.Configuration()
    /// configuration.tls.trustedCertificates = .pem(certificateAuthorityData)
    /// configuration.tls.clientCertificate = .file("/etc/agnost/client.crt")
    /// configuration.tls.clientKey = .file("/etc/agnost/client.key")
    /// let client = try HTTPClient(configuration: configuration)
    /// ```
    public struct Configuration: Sendable {
        /// The largest response body kept in memory; a larger one fails with ``HTTPClientError/Code/tooLarge``.
        /// A body streamed to a receiver is not limited.
        public var maximumResponseSize: Int
        /// How `https` connections are verified and authenticated.
        public var tls: TLS

        /// Creates a configuration; the defaults trust the system's certificate authorities.
        ///
        /// ```swift
        /// let configuration = HTTPClient.Configuration(maximumResponseSize: 1 << 30)
        /// ```
        public init(maximumResponseSize: Int = 64 << 20, tls: TLS = TLS()) {
            self.maximumResponseSize = maximumResponseSize
            self.tls = tls
        }
    }

    /// TLS settings, shaped after a kubeconfig cluster and user: `certificate-authority(-data)`,
    /// `client-certificate(-data)`, `client-key(-data)`, `tls-server-name` and `insecure-skip-tls-verify`.
    ///
    /// Its description names where each part comes from and how large it is, never its bytes, so it can be logged.
    ///
    /// ```swift
    /// var tls = HTTPClient.TLS()
    /// tls.trustedCertificates = .pem(Array(caPEM.utf8))
    /// tls.serverName = "kubernetes.default.svc"
    /// ```
    public struct TLS: Sendable, CustomStringConvertible {
        /// The certificate authorities that may issue the server's certificate. When set, they **replace** the
        /// system's bundle, as `kubectl` does with `certificate-authority`: a cluster's own CA should not make every
        /// public CA trusted for it, nor the other way round. nil trusts the system's bundle.
        public var trustedCertificates: PEMSource?
        /// The certificate the client presents when the server asks for one, PEM, optionally followed by the chain.
        public var clientCertificate: PEMSource?
        /// The private key of ``clientCertificate``, PEM (unencrypted). nil looks for it in the certificate's PEM.
        public var clientKey: PEMSource?
        /// The name sent as SNI and checked against the server's certificate instead of the URL's host, which is
        /// still where the client connects and what the `Host` header says. For `https` URLs only.
        public var serverName: String?
        /// Accepts any server certificate, for any name. The connection is encrypted but not authenticated: anyone
        /// in between can read and change it. For test clusters only.
        public var insecureSkipVerify: Bool

        /// Creates TLS settings; with no arguments, the system's certificate authorities and full verification.
        ///
        /// ```swift
        /// let tls = HTTPClient.TLS(trustedCertificates: .file("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"))
        /// ```
        public init(
            trustedCertificates: PEMSource? = nil,
            clientCertificate: PEMSource? = nil,
            clientKey: PEMSource? = nil,
            serverName: String? = nil,
            insecureSkipVerify: Bool = false
        ) {
            self.trustedCertificates = trustedCertificates
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.serverName = serverName
            self.insecureSkipVerify = insecureSkipVerify
        }

        public var description: String {
            var parts: [String] = []
            if let trustedCertificates { parts.append("trustedCertificates: \(trustedCertificates)") }
            if let clientCertificate { parts.append("clientCertificate: \(clientCertificate)") }
            if let clientKey { parts.append("clientKey: \(clientKey)") }
            if let serverName { parts.append("serverName: \(serverName)") }
            if insecureSkipVerify { parts.append("insecureSkipVerify: true") }
            return "TLS(\(parts.joined(separator: ", ")))"
        }
    }

    /// PEM text given as bytes (a kubeconfig's base64-decoded `…-data`) or as the path of a file holding it.
    ///
    /// Its description and mirror show the size or the path only, so a key never reaches a log or `dump`.
    ///
    /// ```swift
    /// let key = HTTPClient.PEMSource.pem(decodedClientKeyData)
    /// print(key)  // PEM (227 bytes)
    /// ```
    public enum PEMSource: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// PEM text in memory; libcurl takes a copy of it for each request.
        case pem([UInt8])
        /// A PEM file, read by libcurl for each new connection.
        case file(String)

        public var description: String {
            switch self {
            case .pem(let bytes): "PEM (\(bytes.count) bytes)"
            case .file(let path): "file \(path)"
            }
        }

        public var debugDescription: String { description }

        public var customMirror: Mirror { Mirror(self, children: [:]) }
    }
}

extension HTTPClient.TLS {
    /// Rejects settings libcurl would only fail on later, less clearly, naming the field at fault and never its bytes.
    func validate() throws(HTTPClientError) {
        try trustedCertificates?.validate(field: "tls.trustedCertificates", expecting: "CERTIFICATE")
        try clientCertificate?.validate(field: "tls.clientCertificate", expecting: "CERTIFICATE")
        try clientKey?.validate(field: "tls.clientKey", expecting: "PRIVATE KEY")
        if clientKey != nil && clientCertificate == nil {
            throw .configuration("tls.clientKey is set without tls.clientCertificate; set both, or neither")
        }
        if let serverName {
            let allowed = serverName.unicodeScalars.allSatisfy { scalar in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9", "-", ".": true
                default: false
                }
            }
            guard !serverName.isEmpty, allowed else {
                throw .configuration(
                    "tls.serverName \"\(serverName)\" is not a host name; use letters, digits, '-' and '.' only"
                )
            }
        }
    }
}

extension HTTPClient.PEMSource {
    fileprivate func validate(field: String, expecting label: String) throws(HTTPClientError) {
        switch self {
        case .pem(let bytes):
            // "-----BEGIN EC PRIVATE KEY-----" and "-----BEGIN RSA PRIVATE KEY-----" end in the label too.
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.contains("-----BEGIN "), text.contains("\(label)-----") else {
                throw .configuration(
                    "\(field) (\(bytes.count) bytes) holds no PEM \(label) block; give the PEM text (for kubeconfig "
                        + "data fields, after base64 decoding)"
                )
            }
        case .file(let path):
            guard !path.isEmpty, access(path, R_OK) == 0 else {
                throw .configuration("\(field): cannot read the file \"\(path)\"; check that it exists and is readable")
            }
        }
    }
}
