/// A failure of the control plane that its API reports: a code that maps to an HTTP status, a message a person can
/// act on, what it is about, and the error beneath it.
///
/// ```swift
/// throw PlatformError(.invalidKey, "the platform key must be 32 bytes in base64", context: "AGNOST_PLATFORM_KEY")
/// ```
public struct PlatformError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A request's input is wrong: a name, a field, a value; the message says which and why.
        case invalidInput
        /// An uploaded `agnost.yaml` does not check; ``PlatformError/details`` holds every diagnostic.
        case invalidSpec
        /// No app, version, resource, key or deployment by that name.
        case notFound
        /// One by that name exists already, or another record still depends on it.
        case conflict
        /// The record has changed since the revision the request named.
        case revisionConflict
        /// The store cannot be reached; trying again later may succeed.
        case unavailable
        /// The store failed.
        case storage
        /// No token, or one the platform does not know.
        case unauthorized
        /// The token's role or its apps do not allow the request; the message says what is missing.
        case forbidden
        /// The platform key is missing, unreadable or not 32 bytes.
        case invalidKey
        /// A sealed secret does not open under the platform key: another key sealed it, or it was altered.
        case unsealable
        /// The system's random source or cipher failed.
        case crypto
        /// The cluster refused the version's objects or its revision did not become ready; the underlying
        /// `DeployError` has Knative's reason.
        case deployment
    }

    public let code: Code
    public let message: String
    /// The setting, file or record the failure is about.
    public let context: String
    /// Lines that belong to the message, such as each diagnostic of a spec: `agnost.yaml:3:5: error: …`.
    public let details: [String]
    public let underlying: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        context: String,
        details: [String] = [],
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.details = details
        self.underlying = underlying
    }

    /// The store's failure, as the API reports it.
    init(_ error: StoreError) {
        let code: Code =
            switch error.code {
            case .duplicate: .conflict
            case .notFound: .notFound
            case .revisionConflict: .revisionConflict
            case .unavailable: .unavailable
            case .storage: .storage
            }
        self.init(code, error.message, context: error.context, underlying: error)
    }

    public var description: String { message }
}
