import AgnostSpec
import Testing

@Suite("RoutePath")
struct RoutePathTests {
    @Test func parsesLiteralAndParameterSegments() throws {
        let path = try #require(RoutePath("/todos/:id/comments/:commentId"))
        #expect(path.raw == "/todos/:id/comments/:commentId")
        #expect(path.description == "/todos/:id/comments/:commentId")
        #expect(path.segments == [.literal("todos"), .parameter("id"), .literal("comments"), .parameter("commentId")])
        #expect(path.parameterNames == ["id", "commentId"])
    }

    @Test func rootHasNoSegments() throws {
        let root = try #require(RoutePath("/"))
        #expect(root.segments.isEmpty)
        #expect(try root.filled(with: [:]) == "/")
    }

    @Test(arguments: ["", "todos", "/todos/", "//", "/agnost/ready", "/a b", "/:", "/:a/:a"])
    func rejectsInvalidPaths(raw: String) {
        #expect(RoutePath(raw) == nil)
    }

    @Test func fillPercentEncodesParameterValues() throws {
        let path = try #require(RoutePath("/todos/:id/tags/:tag"))
        #expect(
            try path.filled(with: ["id": "a b", "tag": "x/y?z#ç~-._"]) == "/todos/a%20b/tags/x%2Fy%3Fz%23%C3%A7~-._"
        )
    }

    @Test func fillKeepsLiteralSegmentsAsWritten() throws {
        let path = try #require(RoutePath("/%7Euser/:name"))
        #expect(try path.filled(with: ["name": "100%"]) == "/%7Euser/100%25")
    }

    @Test func fillNamesMissingParametersInPathOrder() throws {
        let path = try #require(RoutePath("/orgs/:org/todos/:id"))
        let error = #expect(throws: RoutePathError.self) { try path.filled(with: ["id": ""]) }
        #expect(error?.missing == ["org", "id"])
        #expect(error?.unknown == [])
        #expect(error?.path == "/orgs/:org/todos/:id")
        #expect(error?.description == "cannot fill path /orgs/:org/todos/:id: no value for ':org' or ':id'")
    }

    @Test func fillRejectsUnknownParameters() throws {
        let path = try #require(RoutePath("/todos/:id"))
        let error = #expect(throws: RoutePathError.self) {
            try path.filled(with: ["id": "1", "user": "me", "extra": "x"])
        }
        #expect(error?.missing == [])
        #expect(error?.unknown == ["extra", "user"])
        #expect(error?.description == "cannot fill path /todos/:id: no parameter named ':extra' or ':user'")
    }

    @Test func fillReportsMissingAndUnknownTogether() throws {
        let path = try #require(RoutePath("/todos/:id"))
        let error = #expect(throws: RoutePathError.self) { try path.filled(with: ["ID": "1"]) }
        #expect(error?.description == "cannot fill path /todos/:id: no value for ':id'; no parameter named ':ID'")
    }
}
