import FoundationEssentials
import Hummingbird
import Synchronization

struct Todo: Codable, Sendable {
    var id: Int
    var title: String
    var done: Bool
}

final class TodoStore: Sendable {
    private let todos = Mutex<[Int: Todo]>(
        Dictionary(uniqueKeysWithValues: (1...3).map { ($0, Todo(id: $0, title: "todo \($0)", done: false)) })
    )

    func todo(_ id: Int) -> Todo? {
        todos.withLock { $0[id] }
    }
}

let store = TodoStore()
let router = Router()
router.get("/todos/:id") { _, context -> Response in
    guard let id = context.parameters.get("id", as: Int.self) else { throw HTTPError(.badRequest) }
    guard let todo = store.todo(id) else { throw HTTPError(.notFound) }
    let body = try JSONEncoder().encode(todo)
    return Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
    )
}
let port = Environment().get("PORT").flatMap(Int.init) ?? 8080
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
