/// The path of an endpoint: literal segments and `:name` parameters.
///
/// ```swift
/// let path = RoutePath("/todos/:id")!
/// path.segments        // [.literal("todos"), .parameter("id")]
/// path.parameterNames  // ["id"]
/// try path.filled(with: ["id": "a b"])  // "/todos/a%20b"
/// ```
public struct RoutePath: Hashable, Sendable, CustomStringConvertible {
    public enum Segment: Hashable, Sendable {
        /// Matched exactly, as written (percent-encoding included).
        case literal(String)
        /// Matches any one non-empty segment; the name is without its `:`.
        case parameter(String)
    }

    /// The path as written in `agnost.yaml`.
    public let raw: String
    /// The segments between slashes; empty for the root path `/`.
    public let segments: [Segment]

    /// Parses a path that follows the rules of `agnost.yaml`; nil otherwise (``SpecChecker`` says why).
    public init?(_ raw: String) {
        guard let path = try? Self.parse(raw) else { return nil }
        self = path
    }

    init(raw: String, segments: [Segment]) {
        self.raw = raw
        self.segments = segments
    }

    public var description: String { raw }

    /// The names of the parameters, in path order.
    public var parameterNames: [String] {
        segments.compactMap { segment in
            guard case .parameter(let name) = segment else { return nil }
            return name
        }
    }

    /// The concrete path for `parameters`, each value percent-encoded so it stays within its segment.
    ///
    /// ```swift
    /// try RoutePath("/todos/:id")!.filled(with: ["id": "a/b"])  // "/todos/a%2Fb"
    /// try RoutePath("/todos/:id")!.filled(with: [:])            // throws: missing ["id"]
    /// ```
    ///
    /// Throws when a parameter has no value (or an empty one, which could not match a segment), or when
    /// `parameters` names a parameter the path does not have.
    public func filled(with parameters: [String: String]) throws(RoutePathError) -> String {
        let names = parameterNames
        let missing = names.filter { parameters[$0, default: ""].isEmpty }
        let unknown = parameters.keys.filter { !names.contains($0) }.sorted()
        guard missing.isEmpty, unknown.isEmpty else {
            throw RoutePathError(path: raw, missing: missing, unknown: unknown)
        }
        guard !segments.isEmpty else { return "/" }
        return segments.map { segment in
            switch segment {
            case .literal(let text): "/" + text
            case .parameter(let name): "/" + PercentEncoding.encode(parameters[name]!)
            }
        }.joined()
    }
}

/// Why ``RoutePath/filled(with:)`` could not build a path.
///
/// ```swift
/// do {
///     _ = try RoutePath("/todos/:id")!.filled(with: ["key": "1"])
/// } catch {
///     error.description  // "cannot fill path /todos/:id: no value for ':id'; no parameter named ':key'"
/// }
/// ```
public struct RoutePathError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The path's ``RoutePath/raw`` text.
    public let path: String
    /// Parameters of the path with no (or an empty) value, in path order.
    public let missing: [String]
    /// Given parameters the path does not have, sorted.
    public let unknown: [String]

    public var description: String {
        var problems: [String] = []
        if !missing.isEmpty {
            problems.append("no value for \(Self.quoted(missing))")
        }
        if !unknown.isEmpty {
            problems.append("no parameter named \(Self.quoted(unknown))")
        }
        return "cannot fill path \(path): " + problems.joined(separator: "; ")
    }

    private static func quoted(_ names: [String]) -> String {
        Suggestion.list(names.map { "':\($0)'" }, conjunction: "or")
    }
}
