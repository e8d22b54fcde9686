import HTTPTypes

/// A segment trie of routes, built once at start-up and only read afterwards.
///
/// Literal segments win over `:parameter` segments, and matching backtracks, so `/todos/search` and
/// `/todos/:id` coexist. Empty segments are ignored, so `/todos/` matches `/todos`.
struct RouteTable<Target: Sendable>: Sendable {
    enum Match {
        case found(Target, parameterValues: [String])
        /// The path exists, but not for this method; `allowed` is sorted for the `Allow` header.
        case methodNotAllowed(allowed: [HTTPRequest.Method])
        case notFound
        /// A segment's percent escapes spell invalid UTF-8, so no parameter could carry it faithfully.
        case undecodable
    }

    struct Route {
        let method: HTTPRequest.Method
        /// `nil` for a parameter segment.
        let segments: [String?]
        let target: Target
    }

    private let root: Node

    /// Routes with equal method and shape are a spec error, caught before a bundle exists; here the first wins.
    init(_ routes: [Route]) {
        root = Node(routes.map { ($0, $0.segments[...]) })
    }

    /// Parses a route pattern such as `/todos/:id` into trie segments.
    static func segments(of pattern: String) -> [String?] {
        pattern.split(separator: "/").map { $0.first == ":" ? nil : PercentEncoding.decode($0) }
    }

    func match(method: HTTPRequest.Method, path: Substring) -> Match {
        var values: [String] = []
        var allowed: [HTTPRequest.Method] = []
        var undecodable = false
        if let target = root.match(method, path, &values, &allowed, &undecodable) {
            return .found(target, parameterValues: values)
        }
        if undecodable { return .undecodable }
        if allowed.isEmpty { return .notFound }
        var seen = Set<String>()
        let unique = allowed.filter { seen.insert($0.rawValue).inserted }
        return .methodNotAllowed(allowed: unique.sorted { $0.rawValue < $1.rawValue })
    }

    private final class Node: Sendable {
        let literals: [String: Node]
        let parameter: Node?
        let targets: [(method: HTTPRequest.Method, target: Target)]

        init(_ routes: [(route: Route, rest: ArraySlice<String?>)]) {
            var targets: [(method: HTTPRequest.Method, target: Target)] = []
            var literalRoutes: [String: [(route: Route, rest: ArraySlice<String?>)]] = [:]
            var parameterRoutes: [(route: Route, rest: ArraySlice<String?>)] = []
            for (route, rest) in routes {
                guard let first = rest.first else {
                    if !targets.contains(where: { $0.method == route.method }) {
                        targets.append((route.method, route.target))
                    }
                    continue
                }
                if let literal = first {
                    literalRoutes[literal, default: []].append((route, rest.dropFirst()))
                } else {
                    parameterRoutes.append((route, rest.dropFirst()))
                }
            }
            self.targets = targets
            self.literals = literalRoutes.mapValues(Node.init)
            self.parameter = parameterRoutes.isEmpty ? nil : Node(parameterRoutes)
        }

        /// Walks `path` segment by segment in place: no array of segments per request.
        func match(
            _ method: HTTPRequest.Method,
            _ path: Substring,
            _ values: inout [String],
            _ allowed: inout [HTTPRequest.Method],
            _ undecodable: inout Bool
        ) -> Target? {
            let slash = UInt8(ascii: "/")
            guard let start = path.utf8.firstIndex(where: { $0 != slash }) else {
                if let found = targets.first(where: { $0.method == method }) { return found.target }
                allowed.append(contentsOf: targets.map(\.method))
                return nil
            }
            let end = path.utf8[start...].firstIndex(of: slash) ?? path.endIndex
            guard let segment = PercentEncoding.decodePathSegment(path[start..<end]) else {
                undecodable = true
                return nil
            }
            let rest = path[end...]
            if let literal = literals[segment],
                let target = literal.match(method, rest, &values, &allowed, &undecodable)
            {
                return target
            }
            if let parameter {
                values.append(segment)
                if let target = parameter.match(method, rest, &values, &allowed, &undecodable) { return target }
                values.removeLast()
            }
            return nil
        }
    }
}
