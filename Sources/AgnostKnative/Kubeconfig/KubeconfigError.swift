/// Why no ``ClusterAccess`` could be made, or credentials could not be obtained: a sentence naming the kubeconfig
/// file and the field at fault (or the plugin, or the token file) and what to do.
///
/// Messages never contain a token, password, key or the output of a credential plugin.
///
/// ```swift
/// do {
///     access = try KubeconfigLoader.resolve(
///         explicitPath: nil, context: nil, namespace: nil, environment: environment, homeDirectory: home)
/// } catch {
///     print("error: \(error)")  // error: /home/me/.kube/config: context "prod" does not exist; …
/// }
/// ```
public struct KubeconfigError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// No kubeconfig was found, and this is not a pod with a service account.
        case noConfiguration
        /// A kubeconfig file, or a file it names, cannot be read.
        case unreadable
        /// A kubeconfig file is not valid YAML of the expected shape.
        case malformed
        /// The context asked for (or the current one) is not defined.
        case unknownContext
        /// A context names a cluster or user that is not defined, or an entry lacks or misuses a field.
        case invalidEntry
        /// An exec credential plugin could not be run, failed, or printed no credential.
        case credentialPlugin
        /// The token file of a user or service account cannot be read.
        case tokenFile
    }

    public let code: Code
    public let message: String
    /// The file, context or plugin the error is about.
    public let context: String?
    /// The error behind this one, such as a decoding error of Yams.
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, context: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public var description: String { message }
}
