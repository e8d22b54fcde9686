/// Why a deploy, or an operation on a deployed version, did not succeed.
///
/// `reason` and `message` carry Knative's own words when the Service failed to become ready
/// (`RevisionFailed`, …), so a front end can show them as the cluster said them.
public struct DeployError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The manifests could not be made from the bundle and options.
        case render
        /// The Kubernetes API refused a request or could not be reached; `underlying` is the ``KubernetesError``.
        case cluster
        /// The Service reported `Ready=False` for our revision.
        case notReady
        /// The Service did not become ready in time; the cluster goes on trying.
        case timedOut
        /// The wait was cancelled; the cluster goes on as it was.
        case cancelled
        /// The version asked about is not deployed in the namespace.
        case notDeployed
        /// A traffic change that cannot be made as asked.
        case traffic
        /// An object from the cluster does not have the shape expected.
        case unexpectedObject
        /// The version has queues, and the namespace's Broker is missing, not ready, or has no address; or the
        /// cluster has no Knative Eventing.
        case broker
    }

    public let code: Code
    public let message: String
    /// The Service (`namespace/name`) concerned, when there is one.
    public let context: String?
    /// Knative's reason, for ``Code/notReady``.
    public let reason: String?
    public let underlying: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        context: String? = nil,
        reason: String? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.reason = reason
        self.underlying = underlying
    }

    public var description: String { context.map { "\($0): \(message)" } ?? message }
}
