import HTTPTypes
import Testing

@testable import AgnostRuntime

struct RouteTableTests {
    private let table = RouteTable<String>(
        [
            ("GET", "/todos"), ("POST", "/todos"), ("GET", "/todos/:id"), ("PUT", "/todos/:id"),
            ("DELETE", "/todos/:id"), ("GET", "/todos/search"), ("GET", "/todos/:id/items/:item"),
            ("GET", "/a/b/d"), ("GET", "/a/:x/c"), ("GET", "/"),
        ].map { method, path in
            RouteTable.Route(
                method: HTTPRequest.Method(method)!,
                segments: RouteTable<String>.segments(of: path),
                target: "\(method) \(path)"
            )
        }
    )

    private func match(_ method: String, _ path: Substring) -> String {
        switch table.match(method: HTTPRequest.Method(method)!, path: path) {
        case .found(let target, let values): "\(target) \(values)"
        case .methodNotAllowed(let allowed): "405 \(allowed.map(\.rawValue).joined(separator: ","))"
        case .notFound: "404"
        case .undecodable: "400"
        }
    }

    @Test func percentEscapesOfInvalidUTF8AreUndecodableNotReplaced() {
        #expect(match("GET", "/todos/%FF") == "400")
        #expect(match("GET", "/todos/%C3%A9") == "GET /todos/:id [\"é\"]")
    }

    @Test func matchesLiteralsAndParameters() {
        #expect(match("GET", "/todos") == "GET /todos []")
        #expect(match("POST", "/todos") == "POST /todos []")
        #expect(match("GET", "/todos/42") == "GET /todos/:id [\"42\"]")
        #expect(match("GET", "/todos/7/items/x") == "GET /todos/:id/items/:item [\"7\", \"x\"]")
        #expect(match("GET", "/") == "GET / []")
    }

    @Test func literalSegmentsWinOverParameters() {
        #expect(match("GET", "/todos/search") == "GET /todos/search []")
        #expect(match("PUT", "/todos/search") == "PUT /todos/:id [\"search\"]")
    }

    @Test func backtracksFromALiteralDeadEnd() {
        #expect(match("GET", "/a/b/d") == "GET /a/b/d []")
        #expect(match("GET", "/a/b/c") == "GET /a/:x/c [\"b\"]")
    }

    @Test func decodesParametersAndIgnoresEmptySegments() {
        #expect(match("GET", "/todos/a%20b") == "GET /todos/:id [\"a b\"]")
        #expect(match("GET", "/todos/") == "GET /todos []")
        #expect(match("GET", "//todos//42") == "GET /todos/:id [\"42\"]")
    }

    @Test func unknownPathIsNotFound() {
        #expect(match("GET", "/nothing") == "404")
        #expect(match("GET", "/todos/1/items") == "404")
        #expect(match("GET", "/todos/1/items/2/3") == "404")
    }

    @Test func knownPathWithOtherMethodListsTheAllowedOnes() {
        #expect(match("PATCH", "/todos/1") == "405 DELETE,GET,PUT")
        #expect(match("DELETE", "/todos") == "405 GET,POST")
        // The literal route allows GET only, the parameter route PUT and DELETE: all count.
        #expect(match("POST", "/todos/search") == "405 DELETE,GET,PUT")
    }
}
