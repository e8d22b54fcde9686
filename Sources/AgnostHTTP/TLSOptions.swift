internal import CCurl

/// Where a request goes once the TLS server name is taken into account.
struct Route {
    /// The URL handed to libcurl.
    let url: String
    /// A `CURLOPT_CONNECT_TO` entry that sends connections for ``url`` to the request's own host.
    let connectTo: String?
    /// The `Host` header the request would have had, for a server that routes on it.
    let hostHeader: String?
}

extension HTTPClient.TLS {
    /// libcurl checks the certificate against, and sends as SNI, the host of the URL it is given; it has no option for
    /// another name. So the URL names the server name, `CURLOPT_CONNECT_TO` sends its connections to the real host and
    /// port, and the `Host` header keeps naming the real host, as Go's `tls.Config.ServerName` does in `kubectl`.
    func route(_ request: HTTPClientRequest, _ url: RedactedURL) throws(HTTPClientError) -> Route {
        guard let serverName else { return Route(url: request.url, connectTo: nil, hostHeader: nil) }
        let invalid = HTTPClientError(
            code: .invalidURL,
            url: url.display,
            message: "invalid URL \(url.display): libcurl cannot parse it"
        )
        guard let parsed = CurlURL(request.url), let scheme = parsed.get(CURLUPART_SCHEME) else { throw invalid }
        guard scheme.lowercased() == "https" else { return Route(url: request.url, connectTo: nil, hostHeader: nil) }
        // The host comes back bracketed when it is an IPv6 address, as both uses below need it.
        guard let host = parsed.get(CURLUPART_HOST), let port = parsed.get(CURLUPART_PORT, defaultPort: true),
            parsed.set(CURLUPART_HOST, serverName), let rewritten = parsed.get(CURLUPART_URL)
        else { throw invalid }
        let explicitPort = parsed.get(CURLUPART_PORT)
        return Route(
            url: rewritten,
            connectTo: "\(serverName):\(port):\(host):\(port)",
            hostHeader: explicitPort.map { "\(host):\($0)" } ?? host
        )
    }
}

extension Options {
    /// Sets the TLS options of `tls`. PEM bytes go in as copied blobs, so the handle keeps no pointer into them.
    func apply(_ tls: HTTPClient.TLS) throws(HTTPClientError) {
        if let trusted = tls.trustedCertificates {
            // Replaces, not adds to, the system bundle: libcurl would otherwise still read its built-in CA path.
            try clear(CURLOPT_CAPATH)
            switch trusted {
            case .pem(let bytes):
                try clear(CURLOPT_CAINFO)
                try setCopiedBlob(CURLOPT_CAINFO_BLOB, bytes)
            case .file(let path):
                try set(CURLOPT_CAINFO, path)
            }
        }
        if let certificate = tls.clientCertificate {
            try set(CURLOPT_SSLCERTTYPE, "PEM")
            switch certificate {
            case .pem(let bytes): try setCopiedBlob(CURLOPT_SSLCERT_BLOB, bytes)
            case .file(let path): try set(CURLOPT_SSLCERT, path)
            }
        }
        if let key = tls.clientKey {
            try set(CURLOPT_SSLKEYTYPE, "PEM")
            switch key {
            case .pem(let bytes): try setCopiedBlob(CURLOPT_SSLKEY_BLOB, bytes)
            case .file(let path): try set(CURLOPT_SSLKEY, path)
            }
        }
        if tls.insecureSkipVerify {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
    }
}
