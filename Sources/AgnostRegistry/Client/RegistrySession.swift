import AgnostHTTP
import Foundation
import Synchronization

/// One conversation with a registry about one repository: the scheme, the credentials, the authorization the
/// registry asked for, and retries.
///
/// A `401` is answered once per request from its `WWW-Authenticate` challenge: Basic with the credentials found for
/// the registry, or Bearer with a token fetched from the challenge's realm for `repository:NAME:pull,push` and kept
/// for the rest of the session. Failures a retry can help with (a refused or reset connection, a timeout, a `5xx`)
/// are retried as ``RetryPolicy`` decides, pausing with `Task.sleep`; others, such as a certificate that does not
/// verify, fail at once with their cause. Cancelling the task stops the transfer under way.
///
/// A session runs one request at a time; concurrent transfers each ``fork()`` one.
///
/// ```swift
/// let session = try RegistrySession(registry: "localhost:5000", apiHost: "localhost:5000", repository: "todo",
///                                   plainHTTP: true, credentials: nil)
/// let response = try await session.send(method: "HEAD", target: "/v2/todo/blobs/sha256:…")
/// ```
final class RegistrySession: Sendable {
    let registry: String
    let repository: String
    let baseURL: String
    private let apiHost: String
    private let plainHTTP: Bool
    private let client: HTTPClient
    private let credentials: (credentials: RegistryCredentials, source: String)?
    private let retryPolicy: RetryPolicy
    private let state: Mutex<State>

    private struct State {
        var authorization: String?
        /// What a Bearer token is asked for: pushing to the repository, and pulling from those blobs are mounted from.
        var scopes: [String]
    }

    /// - Parameters:
    ///   - plainHTTP: talk `http://`, as Docker does for `localhost` and `127.0.0.1` or with `--insecure`.
    ///   - credentials: what Docker's configuration holds for the registry, and where it came from.
    init(
        registry: String,
        apiHost: String,
        repository: String,
        plainHTTP: Bool,
        credentials: (credentials: RegistryCredentials, source: String)?,
        retryPolicy: RetryPolicy = RetryPolicy(maximumAttempts: 6, maximumBackoff: .seconds(4))
    ) throws(RegistryError) {
        self.registry = registry
        self.repository = repository
        baseURL = "\(plainHTTP ? "http" : "https")://\(apiHost)"
        self.apiHost = apiHost
        self.plainHTTP = plainHTTP
        self.credentials = credentials
        self.retryPolicy = retryPolicy
        state = Mutex(State(scopes: [TokenRequest.scope(repository, actions: ["pull", "push"])]))
        do {
            client = try HTTPClient(maximumResponseSize: 1 << 30)
        } catch {
            throw RegistryError(.unavailable, error.message, context: registry, underlying: error)
        }
    }

    var scopes: [String] { state.withLock { $0.scopes } }

    /// A session of its own (an HTTP client runs one transfer at a time) that starts with this one's authorization,
    /// so that concurrent uploads do not each answer the challenge again.
    func fork() throws(RegistryError) -> RegistrySession {
        let forked = try RegistrySession(
            registry: registry,
            apiHost: apiHost,
            repository: repository,
            plainHTTP: plainHTTP,
            credentials: credentials,
            retryPolicy: retryPolicy
        )
        let current = state.withLock { $0 }
        forked.state.withLock { $0 = current }
        return forked
    }

    /// Adds pulling from `repositories` of the same registry to the token the session asks for, for mounting.
    func includePullScope(for repositories: some Sequence<String>) {
        state.withLock { state in
            for repository in repositories {
                let scope = TokenRequest.scope(repository, actions: ["pull"])
                if !state.scopes.contains(scope) { state.scopes.append(scope) }
            }
        }
    }

    /// Sends a request, answering an authentication challenge once and retrying what failed on the way.
    ///
    /// - Parameters:
    ///   - retry: whether a lost connection or a `5xx` may be retried: false for requests whose effect the caller
    ///     must check first (a `PATCH` that may have arrived).
    ///   - uploadProgress: the bytes of a file body sent so far, in the current attempt.
    ///   - receiver: takes the body of a successful response as it arrives, instead of the response.
    func send(
        method: String,
        target: String,
        headers: [String: String] = [:],
        body: HTTPClientRequest.Body? = nil,
        retry: Bool = true,
        uploadProgress: (@Sendable (Int64) -> Void)? = nil,
        receiver: (any ResponseReceiver)? = nil
    ) async throws(RegistryError) -> HTTPClientResponse {
        let request = Exchange(
            method: method,
            target: target,
            headers: headers,
            body: body,
            retry: retry,
            uploadProgress: uploadProgress,
            receiver: receiver
        )
        var response = try await exchange(request)
        if response.status == 401 {
            try await authenticate(challenge: response.header("WWW-Authenticate"))
            response = try await exchange(request)
            if response.status == 401 { throw unauthorized(response) }
        }
        return response
    }

    /// A `GET` of where a registry redirected a blob: storage elsewhere, which gets no registry credentials.
    func fetchRedirect(
        _ url: String,
        receiver: (any ResponseReceiver)? = nil
    ) async throws(RegistryError) -> HTTPClientResponse {
        guard url.hasPrefix(baseURL + "/") else {
            return try await exchange(
                Exchange(method: "GET", target: url, headers: [:], body: nil, retry: true, receiver: receiver),
                authorized: false
            )
        }
        return try await send(method: "GET", target: url, receiver: receiver)
    }

    /// One request as the session sends it, perhaps more than once.
    private struct Exchange {
        var method: String
        var target: String
        var headers: [String: String]
        var body: HTTPClientRequest.Body?
        var retry: Bool
        var uploadProgress: (@Sendable (Int64) -> Void)? = nil
        var receiver: (any ResponseReceiver)? = nil
    }

    private func exchange(
        _ exchange: Exchange,
        authorized: Bool = true
    ) async throws(RegistryError) -> HTTPClientResponse {
        var fields = exchange.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        if authorized, let authorization = state.withLock({ $0.authorization }) {
            fields.append((name: "Authorization", value: authorization))
        }
        let url = exchange.target.hasPrefix("/") ? baseURL + exchange.target : exchange.target
        // A large blob takes long even at a fair rate (1 MB/s here); the limit is for a registry that stopped answering.
        let bytes = (exchange.body?.count ?? 0) + (exchange.receiver?.expectedSize ?? 0)
        let timeout = Duration.seconds(300) + .milliseconds(bytes / 1000)
        var request = HTTPClientRequest(method: exchange.method, url: url, headers: fields, timeout: timeout)
        request.body = exchange.body
        let receiver = exchange.receiver
        let sink: (@Sendable (UnsafeRawBufferPointer) -> Bool)? = receiver.map { receiver in
            { @Sendable bytes in receiver.receive(bytes) }
        }
        let policy = exchange.retry ? retryPolicy : .none
        var random = SystemRandomNumberGenerator()
        var attempt = 1
        var pause: Duration?
        while true {
            let outcome: RetryPolicy.Outcome
            do throws(HTTPClientError) {
                receiver?.restart()
                let response = try await client.execute(
                    request,
                    uploadProgress: exchange.uploadProgress,
                    successfulBody: sink
                )
                outcome = .response(status: response.status, retryAfter: response.header("Retry-After"))
                guard case .retry(let after) = policy.decision(after: outcome, attempt: attempt, using: &random)
                else { return response }
                pause = after
            } catch {
                if let failure = receiver?.failure { throw failure }
                guard error.code != .cancelled else { throw .cancelled(registry, underlying: error) }
                guard case .retry(let after) = policy.decision(after: .failure(error), attempt: attempt, using: &random)
                else {
                    throw RegistryError(
                        error.code == .certificateRejected || error.code == .tls ? .tls : .unavailable,
                        "cannot reach the registry: \(error.message)"
                            + (error.isRetryable ? "; is it running, and is the address right?" : ""),
                        context: registry,
                        underlying: error
                    )
                }
                pause = after
            }
            do {
                try await Task.sleep(for: pause ?? .zero)
            } catch {
                throw .cancelled(registry, underlying: error)
            }
            attempt += 1
        }
    }

    private func authenticate(challenge header: String?) async throws(RegistryError) {
        let challenges = AuthChallenge.parse(header ?? "")
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            let token = try await token(for: bearer)
            state.withLock { $0.authorization = "Bearer \(token)" }
        } else if challenges.contains(where: { $0.scheme == "basic" }) {
            guard let credentials else { throw noCredentials() }
            guard !credentials.credentials.isIdentityToken else {
                throw RegistryError(
                    .unauthorized,
                    "the registry asks for a password (Basic), and the credentials from \(credentials.source) are an "
                        + "identity token, which only a token service takes; log in with a user name and password",
                    context: registry,
                    remedy: .logIn(registry: registry)
                )
            }
            state.withLock { $0.authorization = "Basic \(credentials.credentials.basicValue)" }
        } else {
            throw RegistryError(
                .unauthorized,
                "the registry asks for authentication this client does not speak: '\(header ?? "")'",
                context: registry
            )
        }
    }

    /// A token from the challenge's realm: for an identity token, by the OAuth2 refresh-token grant, as Docker
    /// does; otherwise by a `GET` with the credentials when there are any (anonymous otherwise, which public
    /// repositories allow for pulling).
    private func token(for challenge: AuthChallenge) async throws(RegistryError) -> String {
        let scopes = self.scopes
        let request: HTTPClientRequest
        if let credentials, credentials.credentials.isIdentityToken {
            guard
                let grant = TokenRequest.refreshGrant(
                    challenge: challenge,
                    scopes: scopes,
                    refreshToken: credentials.credentials.secret,
                    clientID: "agnost-fn"
                )
            else { throw noRealm() }
            request = HTTPClientRequest(
                method: "POST",
                url: grant.url,
                headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded")],
                body: Array(grant.form.utf8),
                timeout: .seconds(60)
            )
        } else {
            guard let url = TokenRequest.tokenURL(challenge: challenge, scopes: scopes) else { throw noRealm() }
            var headers: [(name: String, value: String)] = []
            if let credentials {
                headers.append((name: "Authorization", value: "Basic \(credentials.credentials.basicValue)"))
            }
            request = HTTPClientRequest(url: url, headers: headers, timeout: .seconds(60))
        }
        let response: HTTPClientResponse
        do throws(HTTPClientError) {
            response = try await client.execute(request)
        } catch {
            guard error.code != .cancelled else { throw .cancelled(registry, underlying: error) }
            throw RegistryError(
                .unavailable,
                "cannot reach the token service: \(error.message)",
                context: registry,
                underlying: error
            )
        }
        guard response.status == 200 else {
            // OAuth answers a refresh token it does not know with 400 invalid_grant.
            if [400, 401, 403].contains(response.status) { throw unauthorized(response) }
            throw RegistryError(.unavailable, "the token service answered \(response.status)", context: registry)
        }
        struct TokenResponse: Decodable {
            var token: String?
            var accessToken: String?
            enum CodingKeys: String, CodingKey {
                case token
                case accessToken = "access_token"
            }
        }
        guard let decoded = try? JSONDecoder().decode(TokenResponse.self, from: Data(response.body)),
            let token = decoded.token ?? decoded.accessToken, !token.isEmpty
        else {
            throw RegistryError(.unavailable, "the token service sent no token", context: registry)
        }
        return token
    }

    private func noRealm() -> RegistryError {
        RegistryError(.unauthorized, "the registry's Bearer challenge names no token realm", context: registry)
    }

    private func noCredentials() -> RegistryError {
        RegistryError(
            .unauthorized,
            "the registry needs credentials and none were found; log in to it first",
            context: registry,
            remedy: .logIn(registry: registry)
        )
    }

    /// The registry's own error for a failed response, by status; the distribution API's JSON `errors` carry the
    /// reason. A 401 reaches here only from outside the registry (a redirect to storage): ``send(method:target:headers:body:retry:)``
    /// answers the registry's own.
    ///
    /// - Parameter context: what the error is about; the session's repository when nil.
    func failure(_ response: HTTPClientResponse, doing action: String, context: String? = nil) -> RegistryError {
        Self.failure(
            status: response.status,
            body: response.body,
            doing: action,
            context: context ?? "\(registry)/\(repository)"
        )
    }

    static func failure(status: Int, body: [UInt8], doing action: String, context: String) -> RegistryError {
        let detail = RegistryErrorBody.summary(body).map { ": \($0)" } ?? ""
        switch status {
        case 401:
            return RegistryError(.unauthorized, "\(action) was refused (401)\(detail)", context: context)
        case 403:
            return RegistryError(
                .forbidden,
                "\(action) is forbidden (403)\(detail); the credentials may not push to this repository",
                context: context
            )
        case 404:
            return RegistryError(.notFound, "\(action): name unknown (404)\(detail)", context: context)
        case 400:
            return RegistryError(.invalidContent, "\(action) was rejected as invalid (400)\(detail)", context: context)
        default:
            return RegistryError(.unavailable, "\(action) failed with \(status)\(detail)", context: context)
        }
    }

    /// Names the credentials that were tried, never their secret.
    private func unauthorized(_ response: HTTPClientResponse) -> RegistryError {
        let challenge = AuthChallenge.parse(response.header("WWW-Authenticate") ?? "").first
        if challenge?.parameters["error"] == "insufficient_scope" {
            // The token service accepted whoever asked, and granted less than the request needs.
            let who = credentials.map { "the credentials of \($0.credentials) from \($0.source)" } ?? "anonymous access"
            let scope = challenge?.parameters["scope"].map { " \($0)" } ?? ""
            return RegistryError(
                .forbidden,
                "the registry denied\(scope) to \(who) (insufficient_scope); "
                    + "ask for push access to \(repository), or log in as a user who has it",
                context: "\(registry)/\(repository)"
            )
        }
        guard let credentials else { return noCredentials() }
        return RegistryError(
            .unauthorized,
            "the registry refused the credentials of \(credentials.credentials) from \(credentials.source) (\(response.status)); "
                + "check them, or log in again",
            context: registry,
            remedy: .logIn(registry: registry)
        )
    }
}

extension RegistryCredentials {
    /// `base64(user:secret)`, the value of a Basic `Authorization` header.
    var basicValue: String { Data("\(username):\(secret)".utf8).base64EncodedString() }
}

/// Where a session puts the body of a successful response as it arrives, such as a blob being written to a file.
///
/// The transfer's thread calls ``receive(_:)`` while the session awaits it, and the session calls the rest between
/// transfers, so one receiver is never used from two places at once.
protocol ResponseReceiver: AnyObject, Sendable {
    /// How many bytes the body should have, which sets how long the transfer may take.
    var expectedSize: Int64 { get }
    /// Drops what arrived so far: the request is being sent again.
    func restart()
    /// Takes the next bytes; false stops the transfer, with ``failure`` saying why.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool
    var failure: RegistryError? { get }
}

/// The `errors` array the distribution API returns with a failure.
enum RegistryErrorBody {
    struct Body: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }
        var errors: [Entry]
    }

    /// `MANIFEST_INVALID manifest invalid; …`, or nil for a body that is not the API's JSON.
    static func summary(_ bytes: [UInt8]) -> String? {
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(bytes)), !body.errors.isEmpty else {
            return nil
        }
        return body.errors.map { [$0.code, $0.message].compactMap { $0 }.joined(separator: " ") }
            .joined(separator: "; ")
    }
}
