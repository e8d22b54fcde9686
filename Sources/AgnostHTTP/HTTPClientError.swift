internal import CCurl

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Why ``HTTPClient`` got no response. ``url`` and ``message`` never contain credentials, the query or the fragment
/// of the request URL, so the error can be shown and logged as it is.
///
/// ```swift
/// do {
///     _ = try client.send(HTTPClientRequest(url: "http://127.0.0.1:8080/health"))
/// } catch {
///     // "could not connect to http://127.0.0.1:8080/health: connection refused; is the server running?"
///     print(error)
/// }
/// ```
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for callers that react to some differently, such as retrying after ``timedOut``.
    public enum Code: String, Sendable {
        /// The URL is not an `http` or `https` URL that libcurl can parse; nothing was sent.
        case invalidURL
        /// DNS has no address for the host, or for the proxy.
        case couldNotResolveHost
        /// No connection could be made: refused, unreachable, or the connection attempt failed.
        case couldNotConnect
        /// The exchange took longer than ``HTTPClientRequest/timeout``.
        case timedOut
        /// The TLS handshake failed or the server's certificate was not accepted.
        case tls
        /// The connection broke while the request was being sent.
        case sendFailed
        /// The connection broke, or the server answered with something other than HTTP, before a whole response.
        case receiveFailed
        /// The response body is larger than the client's `maximumResponseSize`.
        case tooLarge
        /// Anything else, including a method or header that cannot be sent; the message says what.
        case other
    }

    public let code: Code
    /// The request URL without userinfo, query and fragment; empty when no request was involved.
    public let url: String
    /// What went wrong, as a sentence that says what to check or change.
    public let message: String

    /// The ``message``, so that printing the error tells the whole story.
    public var description: String { message }
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

    /// The error for a failed `curl_easy_perform`.
    ///
    /// - Parameters:
    ///   - osErrno: `CURLINFO_OS_ERRNO`, which tells a refused connection from an unreachable host.
    ///   - detail: libcurl's error buffer, or empty.
    init(curlCode: CURLcode, osErrno: Int, detail: String, url: RedactedURL, timeoutMilliseconds: Int) {
        let target = url.display
        let trimmedDetail = detail.trimmingTrailingNewlines()
        // libcurl's generic text for the code quotes nothing from the URL; its detail might.
        let reason =
            trimmedDetail.isEmpty || url.isRevealed(by: trimmedDetail)
            ? String(cString: curl_easy_strerror(curlCode)) : trimmedDetail
        switch curlCode {
        case CURLE_URL_MALFORMAT:
            self.init(code: .invalidURL, url: target, message: "invalid URL \(target): \(reason)")
        case CURLE_COULDNT_RESOLVE_HOST:
            self.init(
                code: .couldNotResolveHost,
                url: target,
                message: "could not resolve the host name of \(target); check its spelling and the DNS settings"
            )
        case CURLE_COULDNT_RESOLVE_PROXY:
            self.init(
                code: .couldNotResolveHost,
                url: target,
                message: "could not resolve the proxy for \(target); check http_proxy, https_proxy and all_proxy"
            )
        case CURLE_COULDNT_CONNECT:
            self.init(
                code: .couldNotConnect,
                url: target,
                message: "could not connect to \(target): \(Self.connectFailure(osErrno: osErrno, detail: reason))"
            )
        case CURLE_OPERATION_TIMEDOUT:
            self.init(
                code: .timedOut,
                url: target,
                message: "the request to \(target) did not complete within its timeout of "
                    + "\(Self.formatMilliseconds(timeoutMilliseconds)); the server may be slow or unreachable, "
                    + "or the timeout too short for it"
            )
        case CURLE_PEER_FAILED_VERIFICATION:
            self.init(
                code: .tls,
                url: target,
                message: "the TLS certificate of \(target) could not be verified: \(reason); check that it is "
                    + "issued for this host name by a trusted authority"
            )
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED:
            self.init(
                code: .tls,
                url: target,
                message: "TLS with \(target) failed: \(reason); check that the server speaks TLS on this port "
                    + "(or use http://) and how its certificate is set up"
            )
        case CURLE_SEND_ERROR:
            self.init(
                code: .sendFailed,
                url: target,
                message: "sending the request to \(target) failed: \(reason); the server may have closed the connection"
            )
        case CURLE_GOT_NOTHING:
            self.init(
                code: .receiveFailed,
                url: target,
                message: "\(target) closed the connection without a response; check that the server speaks HTTP "
                    + "on this port and look at its logs"
            )
        case CURLE_PARTIAL_FILE:
            self.init(
                code: .receiveFailed,
                url: target,
                message: "the connection to \(target) closed before the whole response arrived: \(reason)"
            )
        // The scheme is checked before the transfer, so libcurl reports an unsupported protocol only for a reply
        // in HTTP/0.9, which in practice means a server that does not speak HTTP at all.
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_WEIRD_SERVER_REPLY:
            self.init(
                code: .receiveFailed,
                url: target,
                message: "\(target) did not answer with an HTTP response: \(reason); check that the server speaks HTTP "
                    + "on this port"
            )
        case CURLE_RECV_ERROR, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            self.init(
                code: .receiveFailed,
                url: target,
                message: "receiving the response from \(target) failed: \(reason)"
            )
        default:
            self.init(code: .other, url: target, message: "the request to \(target) failed: \(reason)")
        }
    }

    private static func connectFailure(osErrno: Int, detail: String) -> String {
        switch Int32(truncatingIfNeeded: osErrno) {
        case ECONNREFUSED: "connection refused; is the server running, and on this port?"
        case EHOSTUNREACH, ENETUNREACH: "the host is unreachable; check the address and the network"
        case ETIMEDOUT: "the connection attempt timed out; check the address and any firewall in between"
        default: detail
        }
    }

    private static func formatMilliseconds(_ milliseconds: Int) -> String {
        milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var result = Substring(self)
        while let last = result.last, last.isNewline { result.removeLast() }
        return String(result)
    }
}
