/// A problem found in `agnost.yaml`, or a note that points at a related place.
///
/// ```swift
/// let location = SourceLocation(file: "agnost.yaml", line: 9, column: 5)
/// Diagnostic(.error, "unknown key 'hanlder' in endpoint; did you mean 'handler'?", at: location).description
/// // "agnost.yaml:9:5: error: unknown key 'hanlder' in endpoint; did you mean 'handler'?"
/// ```
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable {
        case error, warning, note
    }

    public var severity: Severity
    public var message: String
    public var location: SourceLocation

    public init(_ severity: Severity, _ message: String, at location: SourceLocation) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    /// `file:line:column: severity: message`, the format compilers use and editors parse.
    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}
