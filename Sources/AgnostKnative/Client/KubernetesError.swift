import AgnostHTTP
import Foundation

/// A Kubernetes API call that failed, as a sentence saying what to do: which user of which context the cluster
/// refused, which verb and resource RBAC must grant, which product the cluster lacks, which fields are invalid.
///
/// Messages never contain a token, password or key.
///
/// ```swift
/// do {
///     _ = try await client.apply(body, type: .knativeService, name: "todo-v1", namespace: "default", dryRun: false)
/// } catch {
///     print("error: \(error)")
///     // error: this cluster has no Knative Serving (serving.knative.dev/v1 services); see knative/README.md …
/// }
/// ```
public struct KubernetesError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// 401: the credentials were refused.
        case unauthorized
        /// 403: the user may not do this; RBAC must grant it.
        case forbidden
        /// The cluster does not serve this resource type: a product (Knative Serving, say) is not installed.
        case resourceTypeMissing
        /// The object, or its namespace, does not exist.
        case notFound
        /// 422: the object was refused as invalid.
        case invalid
        /// 409: another field manager owns a field, or the object changed meanwhile.
        case conflict
        /// The API server could not be reached: refused, unresolvable, timed out, or the connection broke.
        case unreachable
        /// The server's certificate does not verify against the cluster's certificate authority.
        case certificate
        /// Another TLS failure, such as a client certificate the server refuses.
        case tls
        /// Credentials could not be obtained: an exec plugin or a token file failed.
        case credentials
        /// The task was cancelled and the transfer stopped.
        case cancelled
        /// The server answered with something that is not the Kubernetes API (or not JSON).
        case invalidResponse
        /// A caller's argument cannot be sent, such as a body that is not a JSON object.
        case invalidArgument
        /// Any other refusal or server error; ``KubernetesError/status`` has the details.
        case other
    }

    public let code: Code
    public let message: String
    /// The object or URL the error is about, such as `services.serving.knative.dev default/todo-v1`.
    public let context: String?
    /// The `Status` the server answered with, if it sent one.
    public let status: Status?
    /// The HTTP status code, when there was a response.
    public let httpStatus: Int?
    /// The error behind this one, such as the ``HTTPClientError`` of a connection that failed.
    public let underlying: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        context: String? = nil,
        status: Status? = nil,
        httpStatus: Int? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.status = status
        self.httpStatus = httpStatus
        self.underlying = underlying
    }

    public var description: String { message }
}

/// A Kubernetes `Status` object, as the API answers a failed request.
public struct Status: Sendable, Decodable, Equatable {
    public var status: String?
    public var message: String?
    /// `NotFound`, `Forbidden`, `Invalid`, `Conflict`, `Gone`, …
    public var reason: String?
    public var code: Int?
    public var details: Details?

    public struct Details: Sendable, Decodable, Equatable {
        public var name: String?
        public var group: String?
        public var kind: String?
        public var causes: [Cause]?
        public var retryAfterSeconds: Int?
    }

    public struct Cause: Sendable, Decodable, Equatable {
        public var reason: String?
        public var message: String?
        public var field: String?
    }

    /// The `Status` in `body`, or nil when it is not one (a proxy's HTML page, say).
    public static func decode(_ body: [UInt8]) -> Status? {
        struct Kind: Decodable { var kind: String? }
        guard let kind = try? JSONDecoder().decode(Kind.self, from: Data(body)), kind.kind == "Status" else {
            return nil
        }
        return try? JSONDecoder().decode(Status.self, from: Data(body))
    }
}

/// What a request was doing, for the sentence its failure becomes.
struct Operation: Sendable {
    /// The RBAC verb: `get`, `list`, `watch`, `patch`, `delete`.
    var verb: String
    var type: ResourceType
    var name: String?
    var namespace: String?

    var subject: String {
        let object = [namespace, name].compactMap { $0 }.joined(separator: "/")
        return object.isEmpty ? type.resource : "\(type.resource) \(object)"
    }
}

/// Who made a request, for messages.
struct Requester: Sendable {
    var server: String
    var contextName: String
    var userName: String
    var source: String
}

extension KubernetesError {
    /// How a 404 reads: its Status names the object when the object is what is missing.
    enum Missing: Equatable {
        case object
        case namespace(String)
        /// The Status names nothing: the resource type, or only a proxy's page; discovery tells.
        case unknown
    }

    static func missing(_ status: Status?) -> Missing {
        guard let details = status?.details, let name = details.name, !name.isEmpty else { return .unknown }
        return details.kind == "namespaces" ? .namespace(name) : .object
    }

    /// The error for a response with a status outside 2xx.
    ///
    /// - Parameter typeExists: for a 404 whose Status names no object, whether discovery lists the resource type.
    static func response(
        status httpStatus: Int,
        body: [UInt8],
        operation: Operation,
        requester: Requester,
        typeExists: Bool? = nil
    ) -> KubernetesError {
        let status = Status.decode(body)
        let said = status?.message.map { ": \($0)" } ?? ""
        let subject = operation.subject
        func make(_ code: Code, _ message: String) -> KubernetesError {
            KubernetesError(code, message, context: subject, status: status, httpStatus: httpStatus)
        }
        switch httpStatus {
        case 401:
            return make(
                .unauthorized,
                "the cluster refused the credentials of user \(requester.userName) (context \(requester.contextName))"
                    + "\(said); check that they are current (a token or certificate may have expired) and belong "
                    + "to the cluster at \(requester.server), as set in \(requester.source)"
            )
        case 403:
            let verbs = operation.verb == "patch" ? "patch and create" : operation.verb
            let place = operation.namespace.map { " in namespace \($0)" } ?? ""
            return make(
                .forbidden,
                "user \(requester.userName) (context \(requester.contextName)) may not \(operation.verb) "
                    + "\(operation.type.resource)\(place)\(said); RBAC must grant the verbs \(verbs) on "
                    + "\(operation.type.resource) (API group \"\(operation.type.group)\")\(place): knative/rbac.yaml "
                    + "in this project has a Role and RoleBinding that grant what is needed"
            )
        case 404:
            switch missing(status) {
            case .namespace(let namespace):
                return make(
                    .notFound,
                    "namespace \(namespace) does not exist in the cluster of context \(requester.contextName); "
                        + "create it, or choose another namespace"
                )
            case .unknown where typeExists != true:
                return make(
                    .resourceTypeMissing,
                    "this cluster has no \(operation.type.product) (\(operation.type)); see knative/README.md for "
                        + "what the cluster needs and how to install it"
                )
            case .object, .unknown:
                return make(.notFound, "\(subject) does not exist\(said)")
            }
        case 409:
            let managers = conflictingManagers(status)
            let fields = (status?.details?.causes ?? []).compactMap(\.field)
            var text = "\(subject) could not be written: it conflicts"
            if !managers.isEmpty {
                text += " with field manager \(managers.joined(separator: ", "))"
                if !fields.isEmpty { text += ", which owns \(fields.joined(separator: ", "))" }
                text += "\(said); take the fields over by applying with force, or remove them from that manager"
            } else {
                text += " with a change made meanwhile\(said); read it again and retry"
            }
            return make(.conflict, text)
        // Strict field validation refuses unknown or duplicate fields with a 400 and the decoder's message.
        case 400 where status?.reason == "BadRequest" && status?.message != nil:
            return make(.invalid, "the cluster refused \(subject)\(said)")
        case 422:
            let causes = (status?.details?.causes ?? []).map { cause in
                "\(cause.field.map { "\($0): " } ?? "")\(cause.message ?? cause.reason ?? "invalid")"
            }
            let list = causes.isEmpty ? said : ":\n" + causes.map { "  - \($0)" }.joined(separator: "\n")
            return make(.invalid, "the cluster refused \(subject) as invalid\(list)")
        default:
            let reason = status?.reason.map { " (\($0))" } ?? ""
            // A 5xx without a Status is still the server failing, but a 4xx without one is not the Kubernetes API.
            if status == nil, httpStatus < 500 {
                return make(
                    .invalidResponse,
                    "\(requester.server) answered \(operation.verb) \(subject) with HTTP \(httpStatus) and no "
                        + "Kubernetes Status; check that it is the Kubernetes API server of context "
                        + "\(requester.contextName)"
                )
            }
            return make(
                .other,
                "the Kubernetes API at \(requester.server) answered \(operation.verb) \(subject) with HTTP "
                    + "\(httpStatus)\(reason)\(said)"
            )
        }
    }

    /// OpenSSL's reason, such as `SSL certificate problem: unable to get local issuer certificate`, without the
    /// advice of the HTTP layer, which the sentence replaces.
    private static func tlsDetail(_ error: HTTPClientError) -> String {
        guard let detail = error.cause?.detail, !detail.isEmpty else { return error.message }
        return detail
    }

    /// The field managers a server-side-apply conflict names: `conflict with "kubectl-edit" using …`.
    static func conflictingManagers(_ status: Status?) -> [String] {
        let texts = (status?.details?.causes ?? []).compactMap(\.message) + [status?.message ?? ""]
        var managers: [String] = []
        for text in texts {
            var rest = Substring(text)
            while let range = rest.range(of: "conflict with \"") {
                let tail = rest[range.upperBound...]
                guard let end = tail.firstIndex(of: "\"") else { break }
                let manager = String(tail[..<end])
                if !managers.contains(manager) { managers.append(manager) }
                rest = tail[tail.index(after: end)...]
            }
        }
        return managers
    }

    /// The error for a request that got no response.
    static func transport(_ error: HTTPClientError, operation: Operation, requester: Requester) -> KubernetesError {
        let subject = operation.subject
        func make(_ code: Code, _ message: String) -> KubernetesError {
            KubernetesError(code, message, context: subject, underlying: error)
        }
        switch error.code {
        case .couldNotConnect, .couldNotResolveHost, .timedOut, .sendFailed, .receiveFailed:
            return make(
                .unreachable,
                "cannot reach the Kubernetes API at \(requester.server) (context \(requester.contextName)): "
                    + "\(error.message); check that the cluster is running and that \(requester.source) points at it"
            )
        case .certificateRejected:
            return make(
                .certificate,
                "the certificate authority of context \(requester.contextName) (\(requester.source)) does not "
                    + "verify the Kubernetes API server at \(requester.server) (\(tlsDetail(error))); check the "
                    + "cluster's certificate-authority(-data) and tls-server-name, or that the configuration belongs "
                    + "to this cluster"
            )
        case .tls, .invalidConfiguration:
            return make(
                .tls,
                "TLS with the Kubernetes API at \(requester.server) (context \(requester.contextName)) failed: "
                    + error.message
            )
        case .cancelled:
            return make(.cancelled, "\(operation.verb) \(subject) was cancelled")
        case .invalidURL:
            return make(
                .invalidArgument,
                "the server URL \(requester.server) of context \(requester.contextName) cannot be used: "
                    + error.message
            )
        case .tooLarge, .busy, .other:
            return make(.other, "\(operation.verb) \(subject) failed: \(error.message)")
        }
    }
}
