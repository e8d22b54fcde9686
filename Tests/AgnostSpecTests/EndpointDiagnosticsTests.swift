import AgnostSpec
import Testing

/// Methods, paths, routes, middleware references, timeouts and the other endpoint settings.
@Suite("Diagnostics: endpoints")
struct EndpointDiagnosticsTests {
    @Test func methodNearMissGetsASuggestion() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: a, method: get, path: /a, handler: a }
                  - { name: b, method: PATCHH, path: /b, handler: b }
                  - { name: c, method: CONNECT, path: /c, handler: c }
                """
            ) == [
                "agnost.yaml:4:24: error: unknown HTTP method 'get'; did you mean 'GET'?",
                "agnost.yaml:5:24: error: unknown HTTP method 'PATCHH'; did you mean 'PATCH'?",
                "agnost.yaml:6:24: error: unknown HTTP method 'CONNECT'; use GET, POST, PUT, PATCH or DELETE",
            ]
        )
    }

    /// Line 4 holds the path; its value starts at column 47, or 48 after an opening quote.
    static func endpoint(path: String) -> String {
        """
        app: todo
        version: v1
        endpoints:
          - { name: e, method: GET, handler: e, path: \(path) }
        """
    }

    @Test(
        arguments: [
            ("todos", 47, "path 'todos' must start with '/'"),
            ("''", 48, "path '' must start with '/'"),
            ("/todos//x", 47, "path '/todos//x' has an empty segment; remove the extra '/'"),
            ("/todos/", 47, "path '/todos/' ends with '/'; remove the trailing '/'"),
            ("/a/./b", 47, "path '/a/./b' contains the segment '.', which clients collapse; remove it"),
            ("/a/..", 47, "path '/a/..' contains the segment '..', which clients collapse; remove it"),
            (
                "'/to dos'", 48,
                "path '/to dos' contains ' ', which is not allowed in a URL path; write it as '%20'"
            ),
            ("'/a?b'", 48, "path '/a?b' contains '?', which is not allowed in a URL path; write it as '%3F'"),
            ("/çay", 47, "path '/çay' contains 'ç', which is not allowed in a URL path; write it as '%C3%A7'"),
            (
                "/@me", 47,
                "path '/@me' contains '@', which is not allowed at the start of a segment; write it as '%40'"
            ),
            ("/a%2", 47, "path '/a%2' has a '%' that is not followed by two hex digits; write a literal '%' as '%25'"),
            (
                "/a%zz", 47,
                "path '/a%zz' has a '%' that is not followed by two hex digits; write a literal '%' as '%25'"
            ),
            ("'/todos/:'", 48, "path '/todos/:' has a parameter without a name; write a name after ':', like ':id'"),
            (
                "/todos/:1d", 47,
                "path parameter ':1d' is not a valid name; start with a letter or '_' and use only letters, digits "
                    + "and '_'"
            ),
            (
                "/todos/:id/items/:id", 47,
                "path '/todos/:id/items/:id' uses the parameter ':id' twice; give each parameter its own name"
            ),
            (
                "/agnost", 47,
                "path '/agnost' is reserved: paths under /agnost are reserved for health, readiness and event "
                    + "delivery; choose another path"
            ),
            (
                "/agnost/health", 47,
                "path '/agnost/health' is reserved: paths under /agnost are reserved for health, readiness and "
                    + "event delivery; choose another path"
            ),
        ]
    )
    func pathRules(path: String, column: Int, message: String) {
        let result = check(Self.endpoint(path: path))
        #expect(result.diagnostics.map(\.description) == ["agnost.yaml:4:\(column): error: \(message)"])
        #expect(result.spec == nil)
    }

    @Test(
        arguments: [
            "/", "/agnostic", "/todos/:id/comments/:comment_id", "/me@home/x:y", "'/a-b.c_d~e/!$&()*+,;='",
            "/%7Euser",
        ]
    )
    func pathsThatFollowTheRulesAreAccepted(path: String) {
        #expect(diagnostics(Self.endpoint(path: path)).isEmpty)
    }

    @Test func sameMethodAndPathShapeConflict() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints:
              - { name: getTodo, method: GET, path: /todos/:id, handler: getTodo }
              - { name: getByKey, method: GET, path: /todos/:key, handler: getByKey }
              - { name: putTodo, method: PUT, path: /todos/:id, handler: putTodo }
              - { name: search, method: GET, path: /todos/search, handler: search }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:4:41: note: endpoint 'getTodo' is defined here",
                "agnost.yaml:5:42: error: endpoint 'getByKey' (GET /todos/:key) matches the same requests as "
                    + "endpoint 'getTodo' (GET /todos/:id); change the method or the path",
            ]
        )
        #expect(result.spec == nil)
    }

    @Test func middlewareReferencesMustNameDefinedMiddlewaresOnce() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints:
              - name: getTodo
                method: GET
                path: /todos/:id
                handler: getTodo
                middlewares: [auht, auth, auth, rateLimit]
            middlewares:
              - { name: auth, handler: requireUser }
              - { name: audit, handler: audit }
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:8:19: error: undefined middleware 'auht'; did you mean 'auth'?",
                "agnost.yaml:8:31: error: middleware 'auth' is listed twice on this endpoint; remove the repeat",
                "agnost.yaml:8:37: error: undefined middleware 'rateLimit'; define it under 'middlewares'",
                "agnost.yaml:11:13: warning: middleware 'audit' is not used by any endpoint; add it to an endpoint's "
                    + "'middlewares' or remove it",
            ]
        )
    }

    @Test func middlewareWithAnErrorIsStillDefinedForItsEndpoints() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: getTodo, method: GET, path: /, handler: getTodo, middlewares: [auth] }
                middlewares:
                  - { name: auth, handler: 'require user' }
                """
            ) == [
                "agnost.yaml:6:29: error: handler 'require user' is not a Swift function name; write an identifier "
                    + "like 'getTodo', optionally qualified by its module like 'TodoHandlers.getTodo'"
            ]
        )
    }

    @Test func endpointTimeoutMustBeAPositiveDuration() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: a, method: GET, path: /a, handler: a, timeout: 5 seconds }
                  - { name: b, method: GET, path: /b, handler: b, timeout: 0s }
                  - { name: c, method: GET, path: /c, handler: c, timeout: 10 }
                  - { name: d, method: GET, path: /d, handler: d, timeout: 99999999999h }
                """
            ) == [
                "agnost.yaml:4:60: error: endpoint timeout '5 seconds' is not a duration; write a whole number "
                    + "followed by ms, s, m or h, like 500ms, 5s, 2m or 1h",
                "agnost.yaml:5:60: error: endpoint timeout must be greater than 0, found '0s'",
                "agnost.yaml:6:60: error: endpoint timeout '10' is not a duration; write a whole number followed by "
                    + "ms, s, m or h, like 500ms, 5s, 2m or 1h",
                "agnost.yaml:7:60: error: endpoint timeout '99999999999h' is too large",
            ]
        )
    }

    @Test func endpointTimeoutAboveScalingTimeoutIsAWarning() {
        let result = check(
            """
            app: todo
            version: v1
            endpoints:
              - { name: report, method: POST, path: /report, handler: report, timeout: 90s }
              - { name: quick, method: GET, path: /quick, handler: quick, timeout: 60000ms }
            scaling:
              timeout: 1m
            """
        )
        #expect(
            result.diagnostics.map(\.description) == [
                "agnost.yaml:4:76: warning: endpoint timeout 90s is longer than scaling.timeout 1m; Knative ends the "
                    + "request after 1m, so raise scaling.timeout or lower this timeout"
            ]
        )
        #expect(result.spec?.endpoints.first?.timeout == .seconds(90))
    }

    @Test func apiKeyIsRequiredOrNone() {
        #expect(
            diagnostics(
                """
                app: todo
                version: v1
                endpoints:
                  - { name: a, method: GET, path: /a, handler: a, apiKey: Required }
                  - { name: b, method: GET, path: /b, handler: b, apiKey: yes }
                """
            ) == [
                "agnost.yaml:4:59: error: unknown apiKey policy 'Required'; did you mean 'required'?",
                "agnost.yaml:5:59: error: unknown apiKey policy 'yes'; use required or none",
            ]
        )
    }
}
