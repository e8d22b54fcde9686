import AgnostCompiler
import AgnostKnative
import AgnostOCI
import AgnostPlatform
import AgnostRegistry
import AgnostSpec

/// A step of the workflow that failed, with the error of the module that failed it.
///
/// ```swift
/// do {
///     _ = try workflow.build(project, configuration: .release)
/// } catch {
///     error.diagnostics.forEach { print($0) }   // agnost.yaml:9:14: error: cannot find 'getTodx' in scope
///     print("error: \(error)")
/// }
/// ```
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Checking `agnost.yaml` or compiling the handlers failed; ``diagnostics`` says where.
        case build
        /// Writing the image failed.
        case package
        /// Talking to a registry failed.
        case registry
        /// A setting from the environment cannot be used.
        case configuration
        /// The cluster could not be used: its kubeconfig, or the Kubernetes API.
        case cluster
        /// Applying to the cluster, or the wait for readiness, failed; `underlying` is the ``DeployError``.
        case deploy
        /// The local event hub could not start, keep its messages, or be reached; `underlying` is the
        /// `EventHubError`.
        case events
    }

    public let code: Code
    public let message: String
    /// The file, registry or setting the error is about, when there is one.
    public let context: String?
    /// The module's own error: a ``CompilerError``, ``ImageError`` or ``RegistryError``.
    public let underlying: any Error & Sendable

    public init(_ code: Code, _ message: String, context: String?, underlying: any Error & Sendable) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    /// What the compiler or the spec checker found, for a failed build.
    public var diagnostics: [Diagnostic] { (underlying as? CompilerError)?.diagnostics ?? [] }

    /// What a tool printed when it failed without diagnostics, or the lines a platform's problem gave with it.
    public var toolOutput: [String] {
        (underlying as? CompilerError)?.toolOutput ?? (underlying as? PlatformClientError)?.details ?? []
    }

    public var description: String { context.map { "\($0): \(message)" } ?? message }

    /// Whether the step stopped because its task was cancelled, rather than because something failed.
    public var wasCancelled: Bool {
        (underlying as? RegistryError)?.code == .cancelled || (underlying as? DeployError)?.code == .cancelled
    }

    init(_ error: CompilerError) {
        self.init(.build, error.message, context: nil, underlying: error)
    }

    init(_ error: ImageError, code: Code = .package) {
        self.init(code, error.message, context: error.context, underlying: error)
    }

    init(_ error: RegistryError) {
        self.init(.registry, error.message, context: error.context, underlying: error)
    }
}
