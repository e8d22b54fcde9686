import AgnostBundle
import AgnostRuntime
import AgnostRuntimeTesting
import Foundation
import Synchronization
import Testing

private struct Todo: Codable, Equatable {
    var id: Int
    var title: String
}

@Sendable private func getTodo(_ request: Request, _ context: Context) async throws -> Response {
    let id = try context.parameters.require("id", as: Int.self)
    guard id < 100 else { throw HTTPError(.notFound, "no todo \(id)") }
    return try .json(Todo(id: id, title: "todo \(id)"))
}

@Sendable private func createTodo(_ request: Request, _ context: Context) async throws -> Response {
    let todo = try request.decode(Todo.self)
    return try .json(todo, status: .created)
}

@Sendable private func echoQuery(_ request: Request, _ context: Context) async throws -> Response {
    .text(
        "\(request.query["q"] ?? "-")|\(request.query.values(for: "tag").joined(separator: ","))|\(context.env["GREETING"] ?? "-")"
    )
}

@Sendable private func fail(_ request: Request, _ context: Context) async throws -> Response {
    struct DatabaseDown: Error {}
    throw DatabaseDown()
}

@Sendable private func sleepy(_ request: Request, _ context: Context) async throws -> Response {
    try await Task.sleep(for: .seconds(10))
    return .text("woke up")
}

private let stubbornFinished = Atomic(false)

/// Ignores cancellation entirely, like a handler awaiting I/O that cannot be cancelled: a detached task does not
/// inherit the handler's cancellation.
@Sendable private func stubborn(_ request: Request, _ context: Context) async throws -> Response {
    await Task.detached { try? await Task.sleep(for: .seconds(3)) }.value
    stubbornFinished.store(true, ordering: .relaxed)
    return .text("too late")
}

@Sendable private func tagged(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
    var response = try await next(request, context)
    response.headers[HTTPField.Name("x-chain")!] = (response.headers[HTTPField.Name("x-chain")!] ?? "") + "outer>"
    return response
}

@Sendable private func innerTag(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
    var response = try await next(request, context)
    response.headers[HTTPField.Name("x-chain")!] = "inner>"
    return response
}

@Sendable private func requireUser(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
    guard request.headers[.authorization] == "Bearer user" else { throw HTTPError(.unauthorized, "sign in first") }
    return try await next(request, context)
}

struct DispatcherTests {
    let app: TestApplication

    init() throws {
        app = try TestApplication(
            endpoints: [
                .init(.get, "/todos/:id", handler: getTodo, logExecution: true),
                .init(.put, "/todos/:id", handler: getTodo),
                .init(.post, "/todos", handler: createTodo),
                .init(.get, "/query", handler: echoQuery),
                .init(.get, "/fail", handler: fail),
                .init(.get, "/sleepy", handler: sleepy, timeout: .milliseconds(200)),
                .init(.get, "/stubborn", handler: stubborn, timeout: .milliseconds(100)),
                .init(.get, "/chain/:id", handler: getTodo, middlewares: [tagged, innerTag]),
                .init(.get, "/private/:id", handler: getTodo, middlewares: [requireUser]),
                .init(.get, "/keyed/:id", handler: getTodo, requiresAPIKey: true),
            ],
            env: ["GREETING": "merhaba"],
            apiKeys: ["s3cret-key", "second-key"],
            maxBodyBytes: 64
        )
    }

    private func json(_ response: Response) throws -> [String: String] {
        try JSONDecoder().decode([String: String].self, from: Data(response.bodyText.utf8))
    }

    @Test func routesWithPathParameters() async throws {
        let response = await app.request(.get, "/todos/7")
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.bodyText == #"{"id":7,"title":"todo 7"}"#)
        #expect(try JSONDecoder().decode(Todo.self, from: Data(response.bodyText.utf8)) == Todo(id: 7, title: "todo 7"))
    }

    @Test func unknownPathIs404WithJSONError() async throws {
        let response = await app.request(.get, "/nope")
        #expect(response.status == .notFound)
        let body = try json(response)
        #expect(body["error"] == "no endpoint matches GET /nope")
        #expect(body["requestId"] == response.headers[HTTPField.Name("x-request-id")!])
        #expect(body["requestId"]?.count == 32)
    }

    @Test func otherMethodIs405WithAllow() async throws {
        let response = await app.request(.delete, "/todos/1")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET, HEAD, OPTIONS, PUT")
        #expect(try json(response)["error"] == "/todos/1 accepts GET, HEAD, OPTIONS, PUT, not DELETE")
    }

    @Test func headAnswersAsGetWithoutABody() async throws {
        let get = await app.request(.get, "/todos/7")
        let head = await app.request(.head, "/todos/7")
        #expect(head.status == .ok)
        #expect(head.body.readableBytes == 0)
        #expect(head.headers[.contentLength] == String(get.body.readableBytes))
        #expect(head.headers[.contentType] == get.headers[.contentType])
        // Errors too: the status and the length of the JSON error GET would carry.
        let missing = await app.request(.head, "/todos/500")
        #expect(missing.status == .notFound)
        #expect(missing.body.readableBytes == 0)
        #expect(Int(missing.headers[.contentLength] ?? "") ?? 0 > 0)
        // HEAD runs the GET endpoint, so an API key is needed just as for GET.
        #expect(await app.request(.head, "/keyed/1").status == .unauthorized)
        let keyed = await app.request(.head, "/keyed/1", headers: [.authorization: "Bearer s3cret-key"])
        #expect(keyed.status == .ok)
    }

    @Test func headOnAPathWithoutGetIs405() async throws {
        let response = await app.request(.head, "/todos")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "OPTIONS, POST")
        #expect(response.body.readableBytes == 0)
    }

    @Test func optionsListsThePathsMethodsWithoutRunningAHandler() async throws {
        let response = await app.request(.options, "/todos/1")
        #expect(response.status == .noContent)
        #expect(response.headers[.allow] == "GET, HEAD, OPTIONS, PUT")
        #expect(response.body.readableBytes == 0)
        #expect(await app.request(.options, "/todos").headers[.allow] == "OPTIONS, POST")
        // No handler runs, so no key is needed: a CORS preflight never carries one.
        let keyed = await app.request(.options, "/keyed/1")
        #expect(keyed.status == .noContent)
        #expect(keyed.headers[.allow] == "GET, HEAD, OPTIONS")
        #expect(await app.request(.options, "/nope").status == .notFound)
    }

    @Test func reservedPathsAnswerHeadAndOptions() async throws {
        let get = await app.request(.get, "/agnost/health")
        let head = await app.request(.head, "/agnost/health")
        #expect(head.status == .ok)
        #expect(head.body.readableBytes == 0)
        #expect(head.headers[.contentLength] == String(get.body.readableBytes))
        #expect(await app.request(.head, "/agnost/ready").status == .ok)
        let options = await app.request(.options, "/agnost/ready")
        #expect(options.status == .noContent)
        #expect(options.headers[.allow] == "GET, HEAD, OPTIONS")
        let post = await app.request(.post, "/agnost/health")
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers[.allow] == "GET, HEAD, OPTIONS")
    }

    @Test func pathWithPercentEscapedInvalidUTF8Is400() async throws {
        let response = await app.request(.get, "/todos/%FF%FE")
        #expect(response.status == .badRequest)
        #expect(try json(response)["error"] == "the path's percent escapes are not valid UTF-8: /todos/%FF%FE")
    }

    @Test func thrownHTTPErrorBecomesItsStatus() async throws {
        let response = await app.request(.get, "/todos/500")
        #expect(response.status == .notFound)
        #expect(try json(response)["error"] == "no todo 500")
    }

    @Test func unconvertibleParameterIs400() async throws {
        let response = await app.request(.get, "/todos/seven")
        #expect(response.status == .badRequest)
        #expect(try json(response)["error"] == "path parameter 'id' must be a Int, got 'seven'")
    }

    @Test func otherErrorsBecome500AndTheAppKeepsServing() async throws {
        let failed = await app.request(.get, "/fail")
        #expect(failed.status == .internalServerError)
        #expect(try json(failed)["error"] == "internal server error")
        let logged = app.logLines.first { $0.contains("handler threw an error") }
        #expect(logged?.contains("DatabaseDown") == true)
        #expect(logged?.contains(try json(failed)["requestId"]!) == true)
        #expect(await app.request(.get, "/todos/1").status == .ok)
    }

    @Test func timeoutIs504WhileAParallelRequestSucceeds() async throws {
        async let slow = app.request(.get, "/sleepy")
        async let fast = app.request(.get, "/todos/3")
        let started = ContinuousClock.now
        let (slowResponse, fastResponse) = await (slow, fast)
        #expect(fastResponse.status == .ok)
        #expect(slowResponse.status == .gatewayTimeout)
        #expect(try json(slowResponse)["error"] == "endpoint5 did not answer within 200ms")
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func timeoutAnswersOnTimeEvenWhenTheHandlerIgnoresCancellation() async throws {
        let started = ContinuousClock.now
        let response = await app.request(.get, "/stubborn")
        let elapsed = ContinuousClock.now - started
        // The handler runs for 3 s; the 504 must come from the 100 ms deadline, long before it finishes.
        #expect(response.status == .gatewayTimeout)
        #expect(stubbornFinished.load(ordering: .relaxed) == false)
        #expect(elapsed < .seconds(2))
    }

    @Test func middlewaresRunOutermostFirst() async throws {
        let response = await app.request(.get, "/chain/2")
        #expect(response.headers[HTTPField.Name("x-chain")!] == "inner>outer>")
    }

    @Test func middlewareCanRejectBeforeTheHandler() async throws {
        #expect(await app.request(.get, "/private/1").status == .unauthorized)
        let allowed = await app.request(.get, "/private/1", headers: [.authorization: "Bearer user"])
        #expect(allowed.status == .ok)
    }

    @Test(arguments: [
        ("/keyed/1", [HTTPField.Name.authorization: "Bearer s3cret-key"], HTTPResponse.Status.ok),
        ("/keyed/1", [HTTPField.Name.authorization: "bearer second-key"], .ok),
        ("/keyed/1", [HTTPField.Name("x-api-key")!: "s3cret-key"], .ok),
        ("/keyed/1?apikey=s3cret-key", [:], .ok),
        ("/keyed/1?apikey=s3cret%2Dkey", [:], .ok),
        ("/keyed/1", [:], .unauthorized),
        ("/keyed/1", [HTTPField.Name.authorization: "Bearer s3cret-kez"], .unauthorized),
        ("/keyed/1", [HTTPField.Name.authorization: "Basic s3cret-key"], .unauthorized),
        ("/keyed/1?apikey=", [:], .unauthorized),
    ])
    func apiKeys(target: String, headers: [HTTPField.Name: String], expected: HTTPResponse.Status) async {
        var fields = HTTPFields()
        for (name, value) in headers { fields[name] = value }
        let response = await app.request(.get, target, headers: fields)
        #expect(response.status == expected)
        if expected == .unauthorized {
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let small = await app.request(.post, "/todos", json: #"{"id":1,"title":"a"}"#)
        #expect(small.status == .created)
        let big = #"{"id":1,"title":"\#(String(repeating: "x", count: 80))"}"#
        let tooLarge = await app.request(.post, "/todos", json: big)
        #expect(tooLarge.status == .contentTooLarge)
        // Chunked: no length up front, so the limit is enforced while reading.
        let streamed = await app.request(
            .post,
            "/todos",
            headers: [.transferEncoding: "chunked", .contentType: "application/json"],
            body: ByteBuffer(string: big)
        )
        #expect(streamed.status == .contentTooLarge)
        #expect(try json(tooLarge)["error"] == "request body is larger than the limit of 64 bytes")
        let declared = await app.request(
            .post,
            "/todos",
            headers: [.contentLength: "100000"],
            body: ByteBuffer(string: "{}")
        )
        #expect(declared.status == .contentTooLarge)
    }

    @Test func invalidJSONBodyIs400NamingTheProblem() async throws {
        let response = await app.request(.post, "/todos", json: #"{"id":1}"#)
        #expect(response.status == .badRequest)
        #expect(try json(response)["error"] == "request body is not a valid Todo: missing key 'title'")
    }

    @Test func requestIdIsPropagatedOrGenerated() async throws {
        let given = await app.request(.get, "/todos/1", headers: [HTTPField.Name("x-request-id")!: "abc-123"])
        #expect(given.headers[HTTPField.Name("x-request-id")!] == "abc-123")
        let forged = await app.request(.get, "/todos/1", headers: [HTTPField.Name("x-request-id")!: "a\"b"])
        #expect(forged.headers[HTTPField.Name("x-request-id")!]?.count == 32)
        let first = await app.request(.get, "/todos/1")
        let second = await app.request(.get, "/todos/1")
        #expect(first.headers[HTTPField.Name("x-request-id")!] != second.headers[HTTPField.Name("x-request-id")!])
    }

    @Test func logsOneJSONLinePerRequestWhenLogExecutionIsOn() async throws {
        _ = await app.request(.get, "/todos/9", headers: [HTTPField.Name("x-request-id")!: "log-test-1"])
        _ = await app.request(.put, "/todos/9", headers: [HTTPField.Name("x-request-id")!: "log-test-2"])
        let lines = app.logLines.filter { $0.contains("log-test-") }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == "request")
        #expect(object["endpoint"] as? String == "endpoint0")
        #expect(object["method"] as? String == "GET")
        #expect(object["path"] as? String == "/todos/9")
        #expect(object["status"] as? Int == 200)
        #expect((object["durationMs"] as? Double).map { $0 >= 0 } == true)
        #expect(object["requestId"] as? String == "log-test-1")
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func queryAndEnvironmentReachTheHandler() async throws {
        let response = await app.request(.get, "/query?q=a+b%21&tag=x&tag=y")
        #expect(response.bodyText == "a b!|x,y|merhaba")
    }

    @Test func healthAndReadiness() async throws {
        let health = await app.request(.get, "/agnost/health")
        #expect(health.status == .ok)
        #expect(health.bodyText == #"{"status":"ok"}"#)
        #expect(await app.request(.get, "/agnost/ready").status == .ok)
        #expect(await app.request(.get, "/agnost/other").status == .notFound)
    }

    @Test func processEnvironmentOverridesTheBundleEnv() async throws {
        var handlers = HandlerRegistry()
        handlers.register(endpoint: "env", echoQuery)
        let manifest = BundleManifest(
            app: "a",
            version: "v1",
            specDigest: "",
            build: BuildInfo(configuration: "debug", toolchain: "", inputDigest: ""),
            endpoints: [EndpointPlan(name: "env", method: "GET", path: "/", handler: "env", timeoutMilliseconds: 1000)],
            env: [EnvironmentEntry(name: "GREETING", value: "hello")]
        )
        let app = try TestApplication(
            manifest: manifest,
            handlers: handlers,
            processEnvironment: ["GREETING": "hej", "UNDECLARED": "x"]
        )
        #expect(await app.request(.get, "/").bodyText == "-||hej")
    }

    @Test func missingHandlersAreAStartupErrorNamingEachOne() throws {
        let manifest = BundleManifest(
            app: "a",
            version: "v1",
            specDigest: "",
            build: BuildInfo(configuration: "debug", toolchain: "", inputDigest: ""),
            endpoints: [
                EndpointPlan(name: "one", method: "GET", path: "/1", handler: "missingOne", timeoutMilliseconds: 1000),
                EndpointPlan(
                    name: "two",
                    method: "GET",
                    path: "/2",
                    handler: "missingTwo",
                    middlewares: ["auth"],
                    timeoutMilliseconds: 1000
                ),
            ]
        )
        let error = #expect(throws: RuntimeStartupError.self) {
            try TestApplication(manifest: manifest, handlers: HandlerRegistry())
        }
        #expect(error?.code == .handlerNotRegistered)
        #expect(error?.message.contains("'missingOne'") == true)
        #expect(error?.message.contains("'missingTwo'") == true)
    }
}
