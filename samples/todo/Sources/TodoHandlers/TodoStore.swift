import Synchronization

public struct Todo: Codable, Sendable, Equatable {
    public var id: Int
    public var title: String
    public var done: Bool

    public init(id: Int, title: String, done: Bool = false) {
        self.id = id
        self.title = title
        self.done = done
    }
}

/// The todos of this process: a sample needs no database. A `Mutex` rather than an actor, because every
/// operation is a dictionary access that should not cost a hop to another executor.
public final class TodoStore: Sendable {
    private struct State {
        var todos: [Int: Todo] = [:]
        var nextID = 1
        /// The todo each handled import message made, by message id: a redelivered message makes no second todo.
        var imported: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init(seed: Int = 0) {
        for index in 0..<seed {
            _ = create(title: "todo \(index + 1)")
        }
    }

    public func all() -> [Todo] {
        state.withLock { $0.todos.values.sorted { $0.id < $1.id } }
    }

    public func todo(_ id: Int) -> Todo? {
        state.withLock { $0.todos[id] }
    }

    public func create(title: String) -> Todo {
        state.withLock { state in
            let todo = Todo(id: state.nextID, title: title)
            state.todos[todo.id] = todo
            state.nextID += 1
            return todo
        }
    }

    /// Returns the updated todo, or `nil` when there is none with that id.
    public func update(_ id: Int, title: String?, done: Bool?) -> Todo? {
        state.withLock { state in
            guard var todo = state.todos[id] else { return nil }
            if let title { todo.title = title }
            if let done { todo.done = done }
            state.todos[id] = todo
            return todo
        }
    }

    public func delete(_ id: Int) -> Bool {
        state.withLock { $0.todos.removeValue(forKey: id) != nil }
    }

    /// Creates the todo of import message `messageID`, or returns the one an earlier delivery of it made.
    public func create(title: String, once messageID: String) -> Todo {
        state.withLock { state in
            if let id = state.imported[messageID], let todo = state.todos[id] { return todo }
            let todo = Todo(id: state.nextID, title: title)
            state.todos[todo.id] = todo
            state.nextID += 1
            state.imported[messageID] = todo.id
            return todo
        }
    }

    /// Removes the todos that are done; returns how many.
    public func archiveDone() -> Int {
        state.withLock { state in
            let done = state.todos.values.filter(\.done).map(\.id)
            for id in done { state.todos[id] = nil }
            return done.count
        }
    }
}
