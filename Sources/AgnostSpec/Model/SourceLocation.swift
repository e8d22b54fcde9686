/// A position in a source file; `line` and `column` are 1-based.
///
/// ```swift
/// SourceLocation(file: "agnost.yaml", line: 12, column: 7).description  // "agnost.yaml:12:7"
/// ```
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, the form editors and terminals turn into links.
    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// A value together with the place in `agnost.yaml` that wrote it.
///
/// ```swift
/// let handler = Located("getTodo", at: SourceLocation(file: "agnost.yaml", line: 7, column: 14))
/// handler.value  // "getTodo"
/// ```
public struct Located<Value: Hashable & Sendable>: Hashable, Sendable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}
