/// A registry operation that could not be done, naming the registry, repository or file at fault and what to do.
///
/// Messages never contain a password or token: they name where credentials came from, not what they are.
///
/// ```swift
/// catch let error as RegistryError { print("error: \(error)") }   // error: localhost:5000/todo: …
/// ```
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A reference, option or argument that cannot be parsed.
        case invalidArgument
        /// The registry refused the credentials (401), or none were found for it.
        case unauthorized
        /// The credentials are valid but may not do this (403).
        case forbidden
        /// The repository, manifest or blob does not exist (404).
        case notFound
        /// The registry rejected a manifest or blob as invalid.
        case invalidContent
        /// The registry cannot be reached, or answered with something that is not the distribution API.
        case unavailable
        /// Docker's `config.json` or a credential helper failed.
        case credentials
        /// Reading or writing a local file failed.
        case fileSystem
        /// The registry's TLS certificate does not verify, or TLS failed otherwise; a retry cannot help.
        case tls
        /// The task was cancelled (Ctrl-C, say) and the transfer stopped.
        case cancelled
    }

    /// What the user can do about an error, for a front end to phrase in its own terms, such as a command to run.
    public enum Remedy: Sendable, Equatable {
        /// Store credentials for `registry` (the key Docker's configuration files them under).
        case logIn(registry: String)
        /// Name one of the platforms of a multi-platform image.
        case choosePlatform
    }

    public let code: Code
    public let message: String
    /// The registry, reference or file the error is about.
    public let context: String?
    public let remedy: Remedy?
    /// The error behind this one, such as the ``HTTPClientError`` of a connection that failed.
    public let underlying: (any Error & Sendable)?

    public init(
        _ code: Code,
        _ message: String,
        context: String? = nil,
        remedy: Remedy? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.context = context
        self.remedy = remedy
        self.underlying = underlying
    }

    /// The transfer with `registry` stopped because its task was cancelled.
    static func cancelled(_ registry: String, underlying: any Error & Sendable) -> RegistryError {
        RegistryError(.cancelled, "the transfer was cancelled", context: registry, underlying: underlying)
    }

    public var description: String { context.map { "\($0): \(message)" } ?? message }
}
