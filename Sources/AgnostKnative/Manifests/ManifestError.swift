/// A manifest that cannot be rendered or an object that cannot be read, naming the value at fault and what to do.
///
/// ```swift
/// do {
///     _ = try ManifestRenderer.render(bundle, options: options)
/// } catch {
///     print("error: \(error)")  // error: image: localhost:5000/todo:v1 is not pinned to a digest; …
/// }
/// ```
public struct ManifestError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The image reference cannot be parsed or is not pinned by digest.
        case invalidImage
        /// A name (the Service, the namespace) that Kubernetes would refuse.
        case invalidName
        /// Bytes that are not JSON.
        case invalidJSON
        /// JSON that is not a Kubernetes object (no `apiVersion`, `kind` or `metadata.name`).
        case invalidObject
    }

    public let code: Code
    public let message: String
    /// The value, field or input the error is about, when there is one.
    public let context: String?
    public let underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, context: String? = nil, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.context = context
        self.underlying = underlying
    }

    public var description: String { context.map { "\($0): \(message)" } ?? message }
}
