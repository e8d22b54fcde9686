import AgnostRuntime
import AgnostRuntimeTesting
import Testing
import TodoHandlers

/// The endpoints as `agnost.yaml` declares them, served in-process.
private func makeApp() throws -> TestApplication {
    try TestApplication(
        endpoints: [
            .init(.get, "/todos", handler: listTodos),
            .init(.get, "/todos/:id", handler: getTodo),
            .init(.post, "/todos", handler: createTodo, middlewares: [requireJSON]),
            .init(.put, "/todos/:id", handler: updateTodo, middlewares: [requireJSON]),
            .init(.delete, "/todos/:id", handler: deleteTodo, requiresAPIKey: true),
            .init(.get, "/reports/slow", handler: slowReport, timeout: .seconds(1)),
            .init(.post, "/todos/import", handler: importTodos, middlewares: [requireJSON]),
        ],
        queues: [.init("imports", handler: importTodo)],
        cronJobs: [.init("archive-done", schedule: "*/5 * * * *", handler: archiveDone)],
        env: ["SEED_TODOS": "3"],
        apiKeys: ["test-key"]
    )
}

// The store is process-wide, like the server's, so the tests run one at a time against it.
@Suite(.serialized)
struct TodoHandlersTests {
    @Test func seededTodosAreListedAndFetchedById() async throws {
        let app = try makeApp()
        let todo = try await app.request(.get, "/todos/2").decode(Todo.self)
        #expect(todo == Todo(id: 2, title: "todo 2"))
        let all = try await app.request(.get, "/todos").decode([Todo].self)
        #expect(all.prefix(3).map(\.id) == [1, 2, 3])
    }

    @Test func createUpdateDelete() async throws {
        let app = try makeApp()
        let created = await app.request(.post, "/todos", json: #"{"title":"write tests"}"#)
        #expect(created.status == .created)
        let todo = try created.decode(Todo.self)
        #expect(created.headers[.location] == "/todos/\(todo.id)")

        let updated = await app.request(.put, "/todos/\(todo.id)", json: #"{"done":true}"#)
        #expect(try updated.decode(Todo.self) == Todo(id: todo.id, title: "write tests", done: true))

        #expect(await app.request(.delete, "/todos/\(todo.id)").status == .unauthorized)
        let deleted = await app.request(.delete, "/todos/\(todo.id)", headers: [.authorization: "Bearer test-key"])
        #expect(deleted.status == .noContent)
        #expect(await app.request(.get, "/todos/\(todo.id)").status == .notFound)
    }

    @Test func bodiesMustBeJSON() async throws {
        let app = try makeApp()
        let response = await app.request(.post, "/todos", body: ByteBuffer(string: "title=x"))
        #expect(response.status == .unsupportedMediaType)
        #expect(await app.request(.post, "/todos", json: #"{"title":""}"#).status == .unprocessableContent)
    }

    @Test func unknownIdsAre404AndBadIdsAre400() async throws {
        let app = try makeApp()
        #expect(await app.request(.get, "/todos/9999").status == .notFound)
        #expect(await app.request(.get, "/todos/abc").status == .badRequest)
    }

    @Test func slowReportTimesOutPastOneSecond() async throws {
        let app = try makeApp()
        #expect(await app.request(.get, "/reports/slow?ms=10").status == .ok)
        #expect(await app.request(.get, "/reports/slow?ms=3000").status == .gatewayTimeout)
    }

    @Test func importsGoThroughTheQueueOncePerMessage() async throws {
        let app = try makeApp()
        let accepted = await app.request(.post, "/todos/import", json: #"[{"title":"from a file"},{"title":""}]"#)
        #expect(accepted.status == .accepted)
        #expect(app.sentMessages.map(\.queue) == ["imports", "imports"])
        let before = try await app.request(.get, "/todos").decode([Todo].self)
        #expect(!before.contains { $0.title == "from a file" }, "nothing is imported before the queue delivers")

        let outcomes = await app.deliverSentMessages().map(\.status)
        #expect(outcomes == [.ok, .badRequest], "an empty title is a permanent failure, never retried")
        let after = try await app.request(.get, "/todos").decode([Todo].self)
        #expect(after.filter { $0.title == "from a file" }.count == 1)

        let body = ByteBuffer(string: #"{"title":"delivered twice"}"#)
        #expect(await app.deliver(queue: "imports", body: body, id: "message-1").status == .ok)
        #expect(await app.deliver(queue: "imports", body: body, id: "message-1", attempt: 2).status == .ok)
        let twice = try await app.request(.get, "/todos").decode([Todo].self)
        #expect(twice.filter { $0.title == "delivered twice" }.count == 1, "a redelivery makes no second todo")
    }

    @Test func theCronJobArchivesDoneTodos() async throws {
        let app = try makeApp()
        let todo = try await app.request(.post, "/todos", json: #"{"title":"finish"}"#).decode(Todo.self)
        _ = await app.request(.put, "/todos/\(todo.id)", json: #"{"done":true}"#)
        #expect(await app.fire(cron: "archive-done").status == .ok)
        #expect(await app.request(.get, "/todos/\(todo.id)").status == .notFound)
        let remaining = try await app.request(.get, "/todos").decode([Todo].self)
        #expect(remaining.allSatisfy { !$0.done })
    }
}
