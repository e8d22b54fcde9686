internal import CCurl

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Why ``HTTPClient`` got no response. ``url`` and ``message`` never contain credentials, the query or the fragment
/// of the request URL, nor any key material, so the error can be shown and logged as it is.
///
/// ```swift
/// do {
///     _ = try client.send(HTTPClientRequest(url: "http://127.0.0.1:8080/health"))
/// } catch {
///     // "could not connect to http://127.0.0.1:8080/health: connection refused; is the server running?"
///     print(error)
///     if error.isRetryable { … }
/// }
/// ```
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that react to some differently, such as retrying after ``timedOut``.
    public enum Code: String, Sendable {
        /// The URL is not an `http` or `https` URL that libcurl can parse; nothing was sent.
        case invalidURL
        /// The client's ``HTTPClient/Configuration`` cannot be used, such as a PEM field holding no PEM.
        case invalidConfiguration
        /// DNS has no address for the host, or for the proxy.
        case couldNotResolveHost
        /// No connection could be made: refused, unreachable, or the connection attempt failed.
        case couldNotConnect
        /// The exchange took longer than ``HTTPClientRequest/timeout``, the connection longer than
        /// ``HTTPClientRequest/connectTimeout``, or no byte moved for ``HTTPClientRequest/idleTimeout``.
        case timedOut
        /// The server's TLS certificate was not accepted: not issued by a trusted authority, issued for another
        /// name, or expired. Retrying does not help; the trusted certificates or the server name must change.
        case certificateRejected
        /// The TLS handshake failed for another reason: the server does not speak TLS on that port, refused the
        /// client certificate (or its absence), or the local certificate or key could not be loaded.
        case tls
        /// The connection broke while the request was being sent.
        case sendFailed
        /// The connection broke, or the server answered with something other than HTTP, before a whole response.
        case receiveFailed
        /// The response body is larger than the client's `maximumResponseSize`.
        case tooLarge
        /// The task running the request was cancelled; the transfer was stopped.
        case cancelled
        /// The client was already running a transfer: one client runs one at a time.
        case busy
        /// Anything else, including a method or header that cannot be sent; the message says what.
        case other
    }

    /// What libcurl and the operating system said, for logs and for callers that need more than ``code``.
    ///
    /// ```swift
    /// if let cause = error.cause { logger.debug("curl \(cause.curlCode) \(cause.curlText), errno \(cause.osErrno ?? 0)") }
    /// ```
    public struct Cause: Sendable, CustomStringConvertible {
        /// The `CURLcode` of the failed transfer, such as 7 for `CURLE_COULDNT_CONNECT`.
        public let curlCode: Int
        /// libcurl's text for ``curlCode``, such as "Couldn't connect to server".
        public let curlText: String
        /// libcurl's detail for this failure (its error buffer), or "" when it gave none or it would reveal a part
        /// of the URL that errors leave out.
        public let detail: String
        /// `errno` of the system call that failed, such as `ECONNREFUSED`, where libcurl recorded one.
        public let osErrno: Int32?

        public var description: String {
            var text = "libcurl error \(curlCode) (\(curlText))"
            if !detail.isEmpty { text += ": \(detail)" }
            if let osErrno { text += ", errno \(osErrno) (\(String(cString: strerror(osErrno))))" }
            return text
        }
    }

    public let code: Code
    /// The request URL without userinfo, query and fragment; empty when no request was involved.
    public let url: String
    /// What went wrong, as a sentence that says what to check or change.
    public let message: String
    /// The libcurl failure behind this error; nil for failures found before or outside libcurl.
    public let cause: Cause?
    /// Whether sending the same request again may succeed: true for refused or reset connections, timeouts and DNS
    /// failures, false for bad input, certificate and other TLS failures, oversized responses and cancellation.
    /// Whether the request may safely be sent twice (it is idempotent, or did not arrive) is the caller's question.
    public let isRetryable: Bool

    init(code: Code, url: String, message: String, cause: Cause? = nil, isRetryable: Bool? = nil) {
        self.code = code
        self.url = url
        self.message = message
        self.cause = cause
        self.isRetryable = isRetryable ?? code.isRetryableByDefault
    }

    /// The ``message``, so that printing the error tells the whole story.
    public var description: String { message }
}

extension HTTPClientError.Code {
    /// DNS failures count as retryable: libcurl reports a name that does not exist and a resolver that did not
    /// answer in time alike, and inside a cluster a Service's name appears moments after the Service. A bounded
    /// policy keeps the cost of retrying a misspelt name to seconds.
    fileprivate var isRetryableByDefault: Bool {
        switch self {
        case .couldNotResolveHost, .couldNotConnect, .timedOut, .sendFailed, .receiveFailed: true
        case .invalidURL, .invalidConfiguration, .certificateRejected, .tls, .tooLarge, .cancelled, .busy, .other:
            false
        }
    }
}

extension HTTPClientError {
    static func tooLarge(_ url: RedactedURL, limit: Int) -> HTTPClientError {
        HTTPClientError(
            code: .tooLarge,
            url: url.display,
            message: "the response from \(url.display) is larger than the limit of \(limit) bytes; "
                + "raise the client's maximumResponseSize if such responses are expected"
        )
    }

    static func configuration(_ message: String) -> HTTPClientError {
        HTTPClientError(code: .invalidConfiguration, url: "", message: "invalid HTTP client configuration: \(message)")
    }

    static func cancelled(_ url: RedactedURL) -> HTTPClientError {
        HTTPClientError(
            code: .cancelled,
            url: url.display,
            message: "the request to \(url.display) was cancelled"
        )
    }

    static func idleTimeout(_ url: RedactedURL, _ idle: Duration) -> HTTPClientError {
        HTTPClientError(
            code: .timedOut,
            url: url.display,
            message: "no data arrived from \(url.display) for \(formatMilliseconds(milliseconds(idle))), the "
                + "request's idle timeout; the server or the network in between may have stopped"
        )
    }

    /// The error for a transfer that libcurl ended with `curlCode`.
    ///
    /// - Parameters:
    ///   - osErrno: `CURLINFO_OS_ERRNO`, which tells a refused connection from an unreachable host.
    ///   - detail: libcurl's error buffer, or empty.
    ///   - connected: whether a connection (and its TLS handshake) was established, which tells a connect timeout
    ///     from one of the whole exchange.
    init(
        curlCode: CURLcode,
        osErrno: Int,
        detail: String,
        url: RedactedURL,
        request: HTTPClientRequest,
        connected: Bool
    ) {
        let target = url.display
        let trimmedDetail = detail.trimmingTrailingNewlines()
        let curlText = String(cString: curl_easy_strerror(curlCode))
        // libcurl's generic text for the code quotes nothing from the URL; its detail might.
        let safeDetail = url.isRevealed(by: trimmedDetail) ? "" : trimmedDetail
        let reason = safeDetail.isEmpty ? curlText : safeDetail
        let cause = Cause(
            curlCode: Int(curlCode.rawValue),
            curlText: curlText,
            detail: safeDetail,
            osErrno: osErrno == 0 ? nil : Int32(truncatingIfNeeded: osErrno)
        )
        func make(_ code: Code, _ message: String, retryable: Bool? = nil) -> HTTPClientError {
            HTTPClientError(code: code, url: target, message: message, cause: cause, isRetryable: retryable)
        }
        switch curlCode {
        case CURLE_URL_MALFORMAT:
            self = make(.invalidURL, "invalid URL \(target): \(reason)")
        case CURLE_COULDNT_RESOLVE_HOST:
            self = make(
                .couldNotResolveHost,
                "could not resolve the host name of \(target); check its spelling and the DNS settings"
            )
        case CURLE_COULDNT_RESOLVE_PROXY:
            self = make(
                .couldNotResolveHost,
                "could not resolve the proxy for \(target); check http_proxy, https_proxy and all_proxy"
            )
        case CURLE_COULDNT_CONNECT:
            self = make(
                .couldNotConnect,
                "could not connect to \(target): \(Self.connectFailure(osErrno: osErrno, detail: reason))"
            )
        case CURLE_OPERATION_TIMEDOUT where !connected:
            let limit = request.connectTimeout.map { "its connect timeout of \(Self.format($0))" } ?? "the time allowed"
            self = make(
                .timedOut,
                "could not connect to \(target) within \(limit); check the address and any firewall in between"
            )
        case CURLE_OPERATION_TIMEDOUT:
            let limit = request.timeout.map { " within its timeout of \(Self.format($0))" } ?? " in time"
            self = make(
                .timedOut,
                "the request to \(target) did not complete\(limit); the server may be slow or unreachable, or the "
                    + "timeout too short for it"
            )
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS:
            self = make(
                .certificateRejected,
                "certificate problem: the TLS certificate of \(target) was not accepted: \(reason); check that the "
                    + "trusted certificate authorities include its issuer, that it is issued for this host name "
                    + "(or the configured TLS server name) and that it has not expired"
            )
        case CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            self = make(
                .tls,
                "TLS with \(target) failed: \(reason); check that the client certificate, its key and the trusted "
                    + "certificates are valid PEM and that the key belongs to the certificate"
            )
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CLIENTCERT,
            CURLE_USE_SSL_FAILED:
            self = make(.tls, Self.tlsFailure(target, reason))
        // With TLS 1.3 the server checks the client's certificate after the client has finished its handshake, so
        // a refusal arrives as an alert in place of the response.
        case CURLE_SEND_ERROR where Self.isTLSAlert(safeDetail), CURLE_RECV_ERROR where Self.isTLSAlert(safeDetail):
            self = make(.tls, Self.tlsFailure(target, reason))
        case CURLE_SEND_ERROR:
            self = make(
                .sendFailed,
                "sending the request to \(target) failed: \(reason); the server may have closed the connection"
            )
        case CURLE_GOT_NOTHING:
            self = make(
                .receiveFailed,
                "\(target) closed the connection without a response; check that the server speaks HTTP on this port "
                    + "and look at its logs"
            )
        case CURLE_PARTIAL_FILE:
            self = make(
                .receiveFailed,
                "the connection to \(target) closed before the whole response arrived: \(reason)"
            )
        // The scheme is checked before the transfer, so libcurl reports an unsupported protocol only for a reply
        // in HTTP/0.9, which in practice means a server that does not speak HTTP at all: asking again will not help.
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_WEIRD_SERVER_REPLY:
            self = make(
                .receiveFailed,
                "\(target) did not answer with an HTTP response: \(reason); check that the server speaks HTTP "
                    + "on this port",
                retryable: false
            )
        case CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            self = make(.receiveFailed, "receiving the response from \(target) failed: \(reason)")
        default:
            self = make(.other, "the request to \(target) failed: \(reason)")
        }
    }

    /// Whether OpenSSL's text says the peer sent a TLS alert, such as "tlsv13 alert certificate required".
    private static func isTLSAlert(_ detail: String) -> Bool {
        detail.contains("SSL") && detail.contains(" alert ")
    }

    private static func tlsFailure(_ target: String, _ reason: String) -> String {
        let lowered = reason.lowercased()
        if lowered.contains("certificate required") || lowered.contains("bad certificate")
            || lowered.contains("unknown ca") || lowered.contains("certificate unknown")
        {
            return "TLS with \(target) failed: \(reason); the server refused the client certificate, or needs "
                + "one: check that a client certificate and key are configured and issued by an authority the "
                + "server trusts"
        }
        return "TLS with \(target) failed: \(reason); check that the server speaks TLS on this port "
            + "(or use http://) and how its certificate is set up"
    }

    private static func connectFailure(osErrno: Int, detail: String) -> String {
        switch Int32(truncatingIfNeeded: osErrno) {
        case ECONNREFUSED: "connection refused; is the server running, and on this port?"
        case EHOSTUNREACH, ENETUNREACH: "the host is unreachable; check the address and the network"
        case ETIMEDOUT: "the connection attempt timed out; check the address and any firewall in between"
        default: detail
        }
    }

    private static func format(_ duration: Duration) -> String {
        formatMilliseconds(milliseconds(duration))
    }

    private static func formatMilliseconds(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

/// `duration` as libcurl takes it: rounded up to whole milliseconds and at least 1, because libcurl reads 0 as
/// "no limit", and at most `Int32.max` (24 days), the largest value every libcurl version stores unclipped.
func milliseconds(_ duration: Duration) -> Int {
    let limit = Int(Int32.max)
    guard duration > .zero else { return 1 }
    guard duration < .milliseconds(limit) else { return limit }
    let (seconds, attoseconds) = duration.components
    let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
    return Int(seconds) * 1000 + Int((attoseconds + attosecondsPerMillisecond - 1) / attosecondsPerMillisecond)
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        while let last = result.last, last.isNewline { result.removeLast() }
        return String(result)
    }
}
