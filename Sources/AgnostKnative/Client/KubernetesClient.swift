import AgnostHTTP
import Foundation
import Synchronization

/// The Kubernetes API calls of the deployer: server-side apply, get, list, delete and watch, over ``HTTPClient``.
///
/// Each call runs on an ``HTTPClient`` of its own, taken from a small pool of idle ones, so calls may run in
/// parallel. Calls are async and cancellable. All of them are idempotent (a server-side apply too), so each is
/// retried after a reset connection, a 5xx or a 429, as ``RetryPolicy`` says; a refused certificate or a 4xx is not.
/// A 401 makes the ``CredentialProvider`` re-read a token file or re-run an exec plugin, and the call is sent once
/// more.
///
/// ```swift
/// let client = KubernetesClient(access: access)
/// let applied = try await client.apply(
///     serviceJSON, type: .knativeService, name: "todo-v1", namespace: access.namespace, dryRun: false)
/// for try await event in client.watch(
///     type: .knativeService, namespace: access.namespace, name: "todo-v1",
///     resourceVersion: applied.metadata.resourceVersion)
/// {
///     if isReady(event.object) { break }
/// }
/// ```
public final class KubernetesClient: Sendable {
    public let access: ClusterAccess
    private let credentials: CredentialProvider
    private let retryPolicy: RetryPolicy
    private let requestTimeout: Duration
    private let watchIdleTimeout: Duration
    private let idleClients = Mutex<[IdleClient]>([])

    /// The field manager of every apply, which owns the fields the deployer sets.
    public static let fieldManager = "agnost-fn"
    private static let maximumIdleClients = 4

    private struct IdleClient: Sendable {
        let client: HTTPClient
        let certificate: HTTPClient.PEMSource?
        let key: HTTPClient.PEMSource?
    }

    /// - Parameters:
    ///   - credentials: where requests get their credentials; by default one made from `access`.
    ///   - retryPolicy: how transient failures are retried; a watch reconnects by it too.
    ///   - requestTimeout: the limit of each call but a watch.
    ///   - watchIdleTimeout: a watch that receives nothing for this long (not even a bookmark) is reconnected.
    public init(
        access: ClusterAccess,
        credentials: CredentialProvider? = nil,
        retryPolicy: RetryPolicy = RetryPolicy(maximumAttempts: 5, maximumBackoff: .seconds(4)),
        requestTimeout: Duration = .seconds(30),
        watchIdleTimeout: Duration = .seconds(120)
    ) {
        self.access = access
        self.credentials = credentials ?? CredentialProvider(access: access)
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.watchIdleTimeout = watchIdleTimeout
    }

    // MARK: Calls

    /// Server-side apply of `body`, a JSON object with `apiVersion`, `kind` and `metadata.name`: `PATCH` as
    /// `application/apply-patch+yaml`, field manager `agnost-fn`, `force=true` and `fieldValidation=Strict`, so
    /// unknown fields are refused. A dry run (`dryRun=All`) changes nothing and returns what the object would be.
    ///
    /// ```swift
    /// let applied = try await client.apply(json, type: .secret, name: "todo-v1", namespace: "default", dryRun: true)
    /// print(applied.created, applied.metadata.generation ?? 0)
    /// ```
    public func apply(
        _ body: [UInt8],
        type: ResourceType,
        name: String,
        namespace: String,
        dryRun: Bool = false,
        fieldManager: String = KubernetesClient.fieldManager
    ) async throws(KubernetesError) -> AppliedObject {
        let operation = Operation(verb: "patch", type: type, name: name, namespace: namespace)
        guard body.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "{") else {
            throw KubernetesError(
                .invalidArgument,
                "the object to apply as \(operation.subject) is not a JSON object",
                context: operation.subject
            )
        }
        var query = "fieldManager=\(fieldManager)&force=true&fieldValidation=Strict"
        if dryRun { query += "&dryRun=All" }
        let response = try await send(
            "PATCH",
            type.path(namespace: namespace, name: name) + "?" + query,
            body: body,
            contentType: "application/apply-patch+yaml",
            operation: operation
        )
        guard response.status == 200 || response.status == 201 else { throw await failure(response, operation) }
        guard let metadata = ObjectMeta.decode(from: response.body) else {
            throw invalidResponse(operation, "an object without metadata")
        }
        return AppliedObject(statusCode: response.status, object: response.body, metadata: metadata)
    }

    /// The object as JSON, or nil when it does not exist. A cluster without the resource type is an error.
    ///
    /// ```swift
    /// if let secret = try await client.get(type: .secret, name: "todo-v1", namespace: "default") { … }
    /// ```
    public func get(type: ResourceType, name: String, namespace: String) async throws(KubernetesError) -> [UInt8]? {
        let operation = Operation(verb: "get", type: type, name: name, namespace: namespace)
        let response = try await send("GET", type.path(namespace: namespace, name: name), operation: operation)
        if response.status == 200 { return response.body }
        let error = await failure(response, operation)
        if error.code == .notFound { return nil }
        throw error
    }

    /// The objects in `namespace` whose labels match `labelSelector` (`app.kubernetes.io/managed-by=agnost-fn`,
    /// say), and the `resourceVersion` to watch from.
    ///
    /// ```swift
    /// let services = try await client.list(
    ///     type: .knativeService, namespace: "default", labelSelector: "app.kubernetes.io/name=todo")
    /// ```
    public func list(
        type: ResourceType,
        namespace: String,
        labelSelector: String? = nil
    ) async throws(KubernetesError) -> ObjectList {
        try await list(type: type, namespace: namespace, labelSelector: labelSelector, fieldSelector: nil)
    }

    /// Deletes the object, its dependents in the background; false when it was not there.
    ///
    /// ```swift
    /// let deleted = try await client.delete(type: .knativeService, name: "todo-v1", namespace: "default")
    /// ```
    public func delete(type: ResourceType, name: String, namespace: String) async throws(KubernetesError) -> Bool {
        let operation = Operation(verb: "delete", type: type, name: name, namespace: namespace)
        let response = try await send(
            "DELETE",
            type.path(namespace: namespace, name: name) + "?propagationPolicy=Background",
            operation: operation
        )
        if (200..<300).contains(response.status) { return true }
        let error = await failure(response, operation)
        if error.code == .notFound { return false }
        throw error
    }

    /// The changes to the objects of `type` in `namespace` (only the one called `name`, if given), from
    /// `resourceVersion` (from now, if nil). The stream reconnects after a dropped connection from the last
    /// version it saw, as ``RetryPolicy`` allows; when that version has expired (`410 Gone`), it lists the objects
    /// afresh, sends each as ``WatchEvent/Kind/modified`` and goes on from the list. An `ERROR` event of any other
    /// kind, or a refusal, ends it with a ``KubernetesError``.
    ///
    /// Ending the loop over the stream, or cancelling its task, stops the transfer at once; as with any
    /// `AsyncThrowingStream`, the loop then ends without an error, so check `Task.isCancelled` after it.
    ///
    /// ```swift
    /// for try await event in client.watch(type: .knativeService, namespace: "default", name: "todo-v1",
    ///                                     resourceVersion: applied.metadata.resourceVersion) {
    ///     print(event.type, event.metadata?.resourceVersion ?? "")
    /// }
    /// ```
    public func watch(
        type: ResourceType,
        namespace: String,
        name: String?,
        resourceVersion: String?
    ) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let task = Task {
            do throws(KubernetesError) {
                try await follow(
                    type: type,
                    namespace: namespace,
                    name: name,
                    resourceVersion: resourceVersion,
                    into: continuation
                )
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    // MARK: Watching

    /// Runs watch requests one after the other until an error or cancellation ends it.
    private func follow(
        type: ResourceType,
        namespace: String,
        name: String?,
        resourceVersion initialVersion: String?,
        into continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
    ) async throws(KubernetesError) {
        let operation = Operation(verb: "watch", type: type, name: name, namespace: namespace)
        let fieldSelector = name.map { "metadata.name=\($0)" }
        var resourceVersion = initialVersion
        var failures = 0
        var previousPause: Duration? = nil
        var random = SystemRandomNumberGenerator()
        while true {
            guard !Task.isCancelled else { throw cancelled(operation) }
            var query = "watch=true&allowWatchBookmarks=true"
            if let fieldSelector { query += "&fieldSelector=" + Self.queryEscape(fieldSelector) }
            if let resourceVersion { query += "&resourceVersion=" + Self.queryEscape(resourceVersion) }
            let session = WatchSession(continuation, subject: operation.subject)
            var dropped: KubernetesError? = nil
            var refusal: HTTPClientResponse? = nil
            do {
                let response = try await send(
                    "GET",
                    type.path(namespace: namespace) + "?" + query,
                    operation: operation,
                    retries: false,
                    timeout: nil,
                    idleTimeout: watchIdleTimeout,
                    successfulBody: session.receive
                )
                if !(200..<300).contains(response.status) { refusal = response }
            } catch {
                // The receiver stopping the transfer is how a Status or a bad line ends it; that outcome wins.
                if session.end == nil { dropped = error }
            }
            resourceVersion = session.resourceVersion ?? resourceVersion
            if session.eventCount > 0 {
                failures = 0
                previousPause = nil
            }
            let outcome: RetryPolicy.Outcome
            switch session.end {
            case .failed(let error):
                throw error
            case .gone:
                resourceVersion = try await relist(operation, fieldSelector: fieldSelector, into: continuation)
                continue
            case nil:
                break
            }
            if let refusal {
                if refusal.status == 410 {
                    resourceVersion = try await relist(operation, fieldSelector: fieldSelector, into: continuation)
                    continue
                }
                guard RetryPolicy.isRetryable(status: refusal.status) else { throw await failure(refusal, operation) }
                outcome = .response(status: refusal.status, retryAfter: refusal.header("Retry-After"))
            } else if let dropped {
                guard let cause = dropped.underlying as? HTTPClientError else { throw dropped }
                if cause.code == .cancelled { throw dropped }
                // The idle timeout (the one timeout libcurl does not report, so without a cause) means a quiet
                // object, not a failure: connect again.
                if cause.code == .timedOut && cause.cause == nil { continue }
                outcome = .failure(cause)
            } else {
                // The server ended the stream, as it does after its watch timeout: go on at once if it carried events.
                if session.eventCount > 0 { continue }
                outcome = .response(status: 503, retryAfter: nil)
            }
            failures += 1
            let decision = retryPolicy.decision(
                after: outcome,
                attempt: failures,
                previousPause: previousPause,
                using: &random
            )
            guard case .retry(let pause) = decision else {
                if let refusal { throw await failure(refusal, operation) }
                throw dropped
                    ?? KubernetesError(
                        .unreachable,
                        "the watch of \(operation.subject) at \(access.server) (context \(access.contextName)) "
                            + "closed \(failures) times in a row without an event; check the API server's health",
                        context: operation.subject
                    )
            }
            do {
                try await Task.sleep(for: pause)
            } catch {
                throw cancelled(operation)
            }
            previousPause = pause
        }
    }

    /// Lists the watched objects afresh after their version expired, sends each on, and returns the list's version.
    private func relist(
        _ operation: Operation,
        fieldSelector: String?,
        into continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
    ) async throws(KubernetesError) -> String {
        let list = try await list(
            type: operation.type,
            namespace: operation.namespace ?? access.namespace,
            labelSelector: nil,
            fieldSelector: fieldSelector
        )
        for item in list.items { continuation.yield(WatchEvent(type: .modified, object: item)) }
        return list.resourceVersion
    }

    // MARK: Requests

    private func list(
        type: ResourceType,
        namespace: String,
        labelSelector: String?,
        fieldSelector: String?
    ) async throws(KubernetesError) -> ObjectList {
        let operation = Operation(verb: "list", type: type, name: nil, namespace: namespace)
        var query: [String] = []
        if let labelSelector { query.append("labelSelector=" + Self.queryEscape(labelSelector)) }
        if let fieldSelector { query.append("fieldSelector=" + Self.queryEscape(fieldSelector)) }
        let path = type.path(namespace: namespace) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        let response = try await send("GET", path, operation: operation)
        guard response.status == 200 else { throw await failure(response, operation) }
        guard let document = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let items = (document["items"] ?? [Any]()) as? [Any]
        else { throw invalidResponse(operation, "something other than a list") }
        let metadata = document["metadata"] as? [String: Any]
        var encoded: [[UInt8]] = []
        for item in items {
            guard let object = item as? [String: Any],
                let bytes = try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
            else { throw invalidResponse(operation, "a list with an item that is not an object") }
            encoded.append(Array(bytes))
        }
        return ObjectList(resourceVersion: metadata?["resourceVersion"] as? String ?? "", items: encoded)
    }

    /// Sends a request with the current credentials and returns its response, whatever its status; after a 401,
    /// refreshes the credentials and, when they changed, sends it once more.
    private func send(
        _ method: String,
        _ pathAndQuery: String,
        body: [UInt8]? = nil,
        contentType: String? = nil,
        operation: Operation,
        retries: Bool = true,
        timeout: Duration? = nil,
        idleTimeout: Duration? = nil,
        successfulBody: (@Sendable (UnsafeRawBufferPointer) -> Bool)? = nil
    ) async throws(KubernetesError) -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), ("User-Agent", "agnost-fn")]
        if let contentType { headers.append(("Content-Type", contentType)) }
        let request = HTTPClientRequest(
            method: method,
            url: access.server + pathAndQuery,
            headers: headers,
            body: body,
            timeout: successfulBody == nil ? (timeout ?? requestTimeout) : timeout,
            idleTimeout: idleTimeout,
            connectTimeout: .seconds(10)
        )
        var authentication = try await authentication(operation)
        var response = try await attempt(request, authentication, operation, retries, successfulBody)
        if response.status == 401, await credentials.refresh(afterRefusing: authentication) {
            authentication = try await self.authentication(operation)
            response = try await attempt(request, authentication, operation, retries, successfulBody)
        }
        return response
    }

    private func authentication(_ operation: Operation) async throws(KubernetesError) -> Authentication {
        do {
            return try await credentials.authentication()
        } catch {
            throw KubernetesError(.credentials, error.message, context: operation.subject, underlying: error)
        }
    }

    private func attempt(
        _ request: HTTPClientRequest,
        _ authentication: Authentication,
        _ operation: Operation,
        _ retries: Bool,
        _ successfulBody: (@Sendable (UnsafeRawBufferPointer) -> Bool)?
    ) async throws(KubernetesError) -> HTTPClientResponse {
        var request = request
        if let authorization = authentication.authorization {
            request.headers.append(("Authorization", authorization))
        }
        let sent = request
        do {
            return try await (retries ? retryPolicy : .none).run { _ in
                try await self.execute(sent, authentication, successfulBody)
            }
        } catch let error as HTTPClientError {
            throw .transport(error, operation: operation, requester: requester)
        } catch {
            throw KubernetesError(.other, "\(operation.verb) \(operation.subject) failed: \(error)")
        }
    }

    /// Runs one transfer on an idle client with the right client certificate, or a new one.
    private func execute(
        _ request: HTTPClientRequest,
        _ authentication: Authentication,
        _ successfulBody: (@Sendable (UnsafeRawBufferPointer) -> Bool)?
    ) async throws(HTTPClientError) -> HTTPClientResponse {
        let certificate = authentication.clientCertificate ?? access.tls.clientCertificate
        let key = authentication.clientCertificate == nil ? access.tls.clientKey : authentication.clientKey
        let reused = idleClients.withLock { idle -> HTTPClient? in
            // Clients for a client certificate that a plugin has since replaced are of no more use.
            idle.removeAll { $0.certificate != certificate || $0.key != key }
            return idle.popLast()?.client
        }
        let client: HTTPClient
        if let reused {
            client = reused
        } else {
            var tls = access.tls
            tls.clientCertificate = certificate
            tls.clientKey = key
            client = try HTTPClient(configuration: HTTPClient.Configuration(maximumResponseSize: 64 << 20, tls: tls))
        }
        defer {
            idleClients.withLock { idle in
                if idle.count < Self.maximumIdleClients {
                    idle.append(IdleClient(client: client, certificate: certificate, key: key))
                }
            }
        }
        return try await client.execute(request, successfulBody: successfulBody)
    }

    /// The error for a response outside 2xx; a 404 whose Status names nothing is told apart by discovery.
    private func failure(_ response: HTTPClientResponse, _ operation: Operation) async -> KubernetesError {
        var typeExists: Bool? = nil
        if response.status == 404, KubernetesError.missing(Status.decode(response.body)) == .unknown {
            typeExists = await discover(operation.type)
        }
        return .response(
            status: response.status,
            body: response.body,
            operation: operation,
            requester: requester,
            typeExists: typeExists
        )
    }

    /// Whether the API server lists `type` in its discovery document; nil when that could not be told.
    private func discover(_ type: ResourceType) async -> Bool? {
        let operation = Operation(verb: "get", type: type, name: nil, namespace: nil)
        guard let response = try? await send("GET", type.groupVersionPath, operation: operation) else { return nil }
        if response.status == 404 { return false }
        guard response.status == 200,
            let document = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let resources = document["resources"] as? [[String: Any]]
        else { return nil }
        return resources.contains { $0["name"] as? String == type.plural }
    }

    private var requester: Requester {
        Requester(
            server: access.server,
            contextName: access.contextName,
            userName: access.userName,
            source: access.source
        )
    }

    private func invalidResponse(_ operation: Operation, _ what: String) -> KubernetesError {
        KubernetesError(
            .invalidResponse,
            "\(access.server) answered \(operation.verb) \(operation.subject) with \(what); check that it is the "
                + "Kubernetes API server of context \(access.contextName)",
            context: operation.subject
        )
    }

    private func cancelled(_ operation: Operation) -> KubernetesError {
        KubernetesError(.cancelled, "\(operation.verb) \(operation.subject) was cancelled", context: operation.subject)
    }

    /// Escapes a query value: selectors hold `=`, `!` and `,`, which must not end or split it.
    static func queryEscape(_ value: String) -> String {
        ResourceType.escape(value)
    }
}

/// The state of one watch connection, fed by the transfer's thread: it cuts lines, forwards events, remembers the
/// last version, and stops the transfer at a Status or a line it cannot read.
private final class WatchSession: Sendable {
    enum End: Sendable {
        case gone
        case failed(KubernetesError)
    }

    private struct State {
        var splitter = JSONLineSplitter()
        var resourceVersion: String?
        var eventCount = 0
        var end: End?
    }

    private let state = Mutex(State())
    private let continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation
    /// The watched resource, for messages.
    private let subject: String

    init(_ continuation: AsyncThrowingStream<WatchEvent, any Error>.Continuation, subject: String) {
        self.continuation = continuation
        self.subject = subject
    }

    var resourceVersion: String? { state.withLock { $0.resourceVersion } }
    var eventCount: Int { state.withLock { $0.eventCount } }
    var end: End? { state.withLock { $0.end } }

    /// Takes a piece of the body; false stops the transfer.
    @Sendable func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        state.withLock { state in
            guard let lines = state.splitter.append(bytes) else {
                state.end = .failed(
                    KubernetesError(.invalidResponse, "the watch of \(subject) sent an event larger than 16 MiB")
                )
                return false
            }
            for line in lines {
                switch WatchLine.decode(line) {
                case .event(let kind, let object, let version):
                    if let version { state.resourceVersion = version }
                    state.eventCount += 1
                    continuation.yield(WatchEvent(type: kind, object: object))
                case .error(let status) where status?.code == 410:
                    state.end = .gone
                    return false
                case .error(let status):
                    let said = status?.message ?? "no message"
                    state.end = .failed(
                        KubernetesError(
                            .other,
                            "the watch of \(subject) ended with an error: \(said)",
                            context: subject,
                            status: status
                        )
                    )
                    return false
                case nil:
                    state.end = .failed(
                        KubernetesError(
                            .invalidResponse,
                            "the watch of \(subject) sent a line that is not a watch event",
                            context: subject
                        )
                    )
                    return false
                }
            }
            return true
        }
    }
}
