import AgnostRuntime
import Synchronization

/// The process-wide store, seeded with `SEED_TODOS` todos from the first request's environment.
private let store = StoreHolder()

private final class StoreHolder: Sendable {
    private let seeded = Mutex<TodoStore?>(nil)

    func store(_ context: Context) -> TodoStore {
        seeded.withLock { store in
            if let store { return store }
            let created = TodoStore(seed: context.env["SEED_TODOS"].flatMap(Int.init) ?? 0)
            store = created
            return created
        }
    }
}

public struct TodoDraft: Codable, Sendable {
    public var title: String
}

public struct TodoChange: Codable, Sendable {
    public var title: String?
    public var done: Bool?
}

/// `GET /todos`
public func listTodos(_ request: Request, _ context: Context) async throws -> Response {
    try .json(store.store(context).all())
}

/// `GET /todos/:id`
public func getTodo(_ request: Request, _ context: Context) async throws -> Response {
    let id = try context.parameters.require("id", as: Int.self)
    guard let todo = store.store(context).todo(id) else { throw HTTPError(.notFound, "no todo with id \(id)") }
    return try .json(todo)
}

/// `POST /todos` with `{"title": …}`
public func createTodo(_ request: Request, _ context: Context) async throws -> Response {
    let draft = try request.decode(TodoDraft.self)
    guard !draft.title.isEmpty else { throw HTTPError(.unprocessableContent, "title must not be empty") }
    let todo = store.store(context).create(title: draft.title)
    context.logger.info("created todo", metadata: ["id": "\(todo.id)"])
    return try .json(todo, status: .created, headers: [.location: "/todos/\(todo.id)"])
}

/// `PUT /todos/:id` with `{"title": …, "done": …}`, either optional
public func updateTodo(_ request: Request, _ context: Context) async throws -> Response {
    let id = try context.parameters.require("id", as: Int.self)
    let change = try request.decode(TodoChange.self)
    guard let todo = store.store(context).update(id, title: change.title, done: change.done) else {
        throw HTTPError(.notFound, "no todo with id \(id)")
    }
    return try .json(todo)
}

/// `DELETE /todos/:id`; `agnost.yaml` requires an API key for it.
public func deleteTodo(_ request: Request, _ context: Context) async throws -> Response {
    let id = try context.parameters.require("id", as: Int.self)
    guard store.store(context).delete(id) else { throw HTTPError(.notFound, "no todo with id \(id)") }
    return Response(status: .noContent)
}

/// `GET /reports/slow?ms=N`: takes N milliseconds (default 500), to show the endpoint's 1 s timeout at work.
public func slowReport(_ request: Request, _ context: Context) async throws -> Response {
    let milliseconds = request.query["ms"].flatMap(Int.init) ?? 500
    try await Task.sleep(for: .milliseconds(milliseconds))
    return try .json(["tookMs": milliseconds, "todos": store.store(context).all().count])
}

/// `POST /todos/import` with `[{"title": …}, …]`: each draft goes to the `imports` queue, and the answer, 202,
/// comes once the broker holds them all; the todos appear as the queue delivers them.
public func importTodos(_ request: Request, _ context: Context) async throws -> Response {
    let drafts = try request.decode([TodoDraft].self)
    for draft in drafts {
        try await context.queue("imports").send(draft)
    }
    return try .json(["queued": drafts.count], status: .accepted)
}

/// Queue `imports`: makes the todo of one draft. An empty title can never succeed, so it is a permanent failure,
/// dead-lettered without retries; a redelivered message makes no second todo.
public func importTodo(_ message: QueueMessage, _ context: Context) async throws {
    let draft = try message.decode(TodoDraft.self)
    guard !draft.title.isEmpty else { throw PermanentFailure("an imported todo needs a title") }
    let todo = store.store(context).create(title: draft.title, once: message.id)
    context.logger.info("imported todo", metadata: ["id": "\(todo.id)", "attempt": "\(message.attempt ?? 1)"])
}

/// Cron job `archiveDone`: removes the todos that are done.
public func archiveDone(_ tick: CronTick, _ context: Context) async throws {
    let archived = store.store(context).archiveDone()
    context.logger.info("archived done todos", metadata: ["count": "\(archived)"])
}

/// Middleware: refuses bodies that do not say they are JSON, with 415 and what to send instead.
public func requireJSON(_ request: Request, _ context: Context, _ next: Next) async throws -> Response {
    guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
        throw HTTPError(.unsupportedMediaType, "send the body as JSON with 'Content-Type: application/json'")
    }
    return try await next(request, context)
}
