import Dispatch
import Foundation
import Synchronization

/// Opens the SQLite store in `path` (creating the file and its schema when missing), runs `body` with it, and
/// closes it once `body` returns or throws, after every write it started.
///
/// ```swift
/// try await withSQLiteStore(path: "data/platform.sqlite") { store in
///     _ = try await store.create(RecordKey(.app, name: "todo"), body: Array(#"{"name":"todo"}"#.utf8))
/// }
/// ```
public func withSQLiteStore<T>(
    path: String,
    readers: Int = 4,
    _ body: (SQLiteStore) async throws -> T
) async throws -> T {
    let store = try SQLiteStore(path: path, readers: readers)
    return try await closing(store, after: body)
}

/// The embedded ``PlatformStore``: one SQLite file in WAL mode, every commit synced (`synchronous = FULL`).
///
/// Writes go to one connection on a thread of its own and are group-committed: those that queue up while a commit
/// runs share the next transaction and its sync, each in a savepoint of its own, so one that fails (a duplicate, a
/// stale revision) leaves the others be; no write runs on the cooperative thread pool, as a commit waits for the
/// disk. Reads run where they are called, each on a read-only connection of its own: in WAL mode a reader never
/// waits for the writer, and a read of the platform's few pages, cached, takes microseconds, less than the two
/// thread switches a hop to a reader thread took (measured by benchmarks/platform: a tenth of a version list's
/// time went to them).
///
/// Open one with ``withSQLiteStore(path:readers:_:)``.
public final class SQLiteStore: PlatformStore {
    public let path: String
    private let writer: SQLiteWorker
    private let readers: SQLiteReaders
    private let pendingWrites = Mutex(PendingWrites())

    fileprivate init(path: String, readers readerCount: Int) throws(StoreError) {
        self.path = path
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, readOnly: false, create: true)
            try connection.execute(
                """
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA busy_timeout = 5000;
                CREATE TABLE IF NOT EXISTS records (
                    kind TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    name TEXT NOT NULL,
                    revision INTEGER NOT NULL,
                    body BLOB NOT NULL,
                    PRIMARY KEY (kind, scope, name)
                ) WITHOUT ROWID;
                """
            )
        } catch {
            throw Self.storeError(error, path)
        }
        writer = SQLiteWorker(label: "agnost.platform.sqlite.writer", connection: connection)
        do {
            readers = try SQLiteReaders(path: path, kept: max(1, readerCount))
        } catch {
            throw Self.storeError(error, path)
        }
    }

    public func create(_ key: RecordKey, body: [UInt8]) async throws(StoreError) -> StoredRecord {
        try await write { connection throws(StoreError) in
            do throws(SQLiteError) {
                try connection.query(
                    "INSERT INTO records (kind, scope, name, revision, body) VALUES (?, ?, ?, 1, ?)",
                    Self.bindings(key) + [.blob(body)]
                )
            } catch {
                guard error.isConstraint else { throw Self.storeError(error, connection.path) }
                throw StoreError(.duplicate, "\(key) exists already", context: key.description)
            }
            return StoredRecord(key: key, revision: 1, body: body)
        }
    }

    public func record(_ key: RecordKey) async throws(StoreError) -> StoredRecord? {
        try read { connection throws(SQLiteError) in
            try Self.fetch(key, on: connection)
        }
    }

    public func update(
        _ key: RecordKey,
        body: [UInt8],
        ifRevision revision: Int
    ) async throws(StoreError) -> StoredRecord {
        try await write { connection throws(StoreError) in
            try Self.checkedChange(
                "UPDATE records SET revision = revision + 1, body = ? WHERE kind = ? AND scope = ? AND name = ? AND revision = ?",
                [.blob(body)] + Self.bindings(key) + [.integer(Int64(revision))],
                key: key,
                revision: revision,
                on: connection
            )
            return StoredRecord(key: key, revision: revision + 1, body: body)
        }
    }

    public func delete(_ key: RecordKey, ifRevision revision: Int?) async throws(StoreError) {
        try await write { connection throws(StoreError) in
            if let revision {
                try Self.checkedChange(
                    "DELETE FROM records WHERE kind = ? AND scope = ? AND name = ? AND revision = ?",
                    Self.bindings(key) + [.integer(Int64(revision))],
                    key: key,
                    revision: revision,
                    on: connection
                )
            } else {
                try Self.checkedChange(
                    "DELETE FROM records WHERE kind = ? AND scope = ? AND name = ?",
                    Self.bindings(key),
                    key: key,
                    revision: nil,
                    on: connection
                )
            }
        }
    }

    public func list(
        _ kind: RecordKind,
        scope: String,
        after cursor: String?,
        limit: Int
    ) async throws(StoreError) -> StorePage {
        let limit = max(1, limit)
        return try read { connection throws(SQLiteError) in
            // One more than asked tells whether a next page exists.
            let rows = try connection.query(
                "SELECT name, revision, body FROM records WHERE kind = ? AND scope = ? AND name > ? ORDER BY name LIMIT ?",
                [.text(kind.rawValue), .text(scope), .text(cursor ?? ""), .integer(Int64(limit + 1))]
            )
            var records: [StoredRecord] = []
            for row in rows.prefix(limit) {
                guard case .text(let name) = row[0], case .integer(let revision) = row[1], case .blob(let body) = row[2]
                else { continue }
                records.append(
                    StoredRecord(key: RecordKey(kind, scope: scope, name: name), revision: Int(revision), body: body)
                )
            }
            return StorePage(records: records, next: rows.count > limit ? records.last?.key.name : nil)
        }
    }

    /// What SQLite's `integrity_check` finds wrong with the file; empty when it is sound.
    public func integrityProblems() async throws(StoreError) -> [String] {
        try read { connection throws(SQLiteError) in
            let rows = try connection.query("PRAGMA integrity_check")
            let lines = rows.compactMap { row -> String? in
                if case .text(let line) = row.first { return line }
                return nil
            }
            return lines == ["ok"] ? [] : lines
        }
    }

    /// Waits for every write queued before, then closes the connections.
    func close() async {
        await writer.close()
        readers.close()
    }

    // MARK: Writes

    /// A write waiting for the next transaction.
    private struct QueuedWrite: Sendable {
        /// Runs the write in its savepoint and says whether it succeeded (else it is rolled back); `finish` then
        /// reports its outcome once the transaction committed, or the commit's failure.
        var run: @Sendable (SQLiteConnection) -> (succeeded: Bool, finish: @Sendable (StoreError?) -> Void)
        /// Reports a failure that came before the write could run.
        var abandon: @Sendable (StoreError) -> Void
    }

    private struct PendingWrites {
        var queued: [QueuedWrite] = []
        var committing = false
    }

    private func write<T: Sendable>(
        _ operation: @escaping @Sendable (SQLiteConnection) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<T, StoreError>, Never>) in
            let write = QueuedWrite(
                run: { connection in
                    let result = Result { () throws(StoreError) in try operation(connection) }
                    let succeeded = (try? result.get()) != nil
                    return (
                        succeeded,
                        { commitFailure in continuation.resume(returning: commitFailure.map { .failure($0) } ?? result)
                        }
                    )
                },
                abandon: { continuation.resume(returning: .failure($0)) }
            )
            let start = pendingWrites.withLock { pending in
                pending.queued.append(write)
                defer { pending.committing = true }
                return !pending.committing
            }
            if start { writer.run { connection in self.commitQueued(on: connection) } }
        }
        return try result.get()
    }

    /// Runs on the writer: commits whatever queued up, a transaction at a time, until nothing is left.
    private func commitQueued(on connection: SQLiteConnection?) {
        while true {
            let batch = pendingWrites.withLock { pending in
                defer { pending.queued = [] }
                if pending.queued.isEmpty { pending.committing = false }
                return pending.queued
            }
            guard !batch.isEmpty else { return }
            guard let connection else {
                let closed = StoreError(.unavailable, "the platform database \(path) is closed", context: path)
                for write in batch { write.abandon(closed) }
                continue
            }
            do throws(SQLiteError) {
                try connection.execute("BEGIN IMMEDIATE")
            } catch {
                for write in batch { write.abandon(Self.storeError(error, path)) }
                continue
            }
            var finishes: [@Sendable (StoreError?) -> Void] = []
            var failure: StoreError?
            for write in batch {
                do throws(SQLiteError) {
                    try connection.execute("SAVEPOINT write")
                } catch {
                    failure = Self.storeError(error, path)
                    break
                }
                let (succeeded, finish) = write.run(connection)
                finishes.append(finish)
                do throws(SQLiteError) {
                    try connection.execute(succeeded ? "RELEASE write" : "ROLLBACK TO write; RELEASE write")
                } catch {
                    failure = Self.storeError(error, path)
                    break
                }
            }
            if failure == nil {
                do throws(SQLiteError) {
                    try connection.execute("COMMIT")
                } catch {
                    failure = Self.storeError(error, path)
                }
            }
            if failure != nil { try? connection.execute("ROLLBACK") }
            for finish in finishes { finish(failure) }
            if let failure, finishes.count < batch.count {
                for write in batch[finishes.count...] { write.abandon(failure) }
            }
        }
    }

    // MARK: Reads

    private func read<T>(_ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(StoreError) -> T {
        let result: T?
        do throws(SQLiteError) {
            result = try readers.withConnection(body)
        } catch {
            throw Self.storeError(error, path)
        }
        guard let result else {
            throw StoreError(.unavailable, "the platform database \(path) is closed", context: path)
        }
        return result
    }

    // MARK: Helpers

    private static func bindings(_ key: RecordKey) -> [SQLiteValue] {
        [.text(key.kind.rawValue), .text(key.scope), .text(key.name)]
    }

    private static func fetch(_ key: RecordKey, on connection: SQLiteConnection) throws(SQLiteError) -> StoredRecord? {
        let rows = try connection.query(
            "SELECT revision, body FROM records WHERE kind = ? AND scope = ? AND name = ?",
            bindings(key)
        )
        guard let row = rows.first, case .integer(let revision) = row[0], case .blob(let body) = row[1] else {
            return nil
        }
        return StoredRecord(key: key, revision: Int(revision), body: body)
    }

    /// Runs an UPDATE or DELETE of the record at `key`, and says why when it changed nothing.
    private static func checkedChange(
        _ sql: String,
        _ bindings: [SQLiteValue],
        key: RecordKey,
        revision: Int?,
        on connection: SQLiteConnection
    ) throws(StoreError) {
        let current: StoredRecord?
        do {
            try connection.query(sql, bindings)
            guard connection.changes == 0 else { return }
            current = try fetch(key, on: connection)
        } catch {
            throw storeError(error, connection.path)
        }
        throw StoreError.unchanged(key, at: current?.revision, expected: revision)
    }

    private static func storeError(_ error: SQLiteError, _ path: String) -> StoreError {
        StoreError(
            error.isBusy ? .unavailable : .storage,
            "the platform database \(path): \(error.message)",
            context: path,
            underlying: error
        )
    }
}

/// A connection and the one thread-confined queue that uses it.
private final class SQLiteWorker: Sendable {
    private let queue: DispatchQueue
    /// Nil once closed.
    private let connection: Mutex<SQLiteConnection?>

    init(label: String, connection: sending SQLiteConnection) {
        queue = DispatchQueue(label: label)
        self.connection = Mutex(connection)
    }

    /// Runs `body` on the worker's queue with the connection, nil once it is closed.
    func run(_ body: @escaping @Sendable (SQLiteConnection?) -> Void) {
        queue.async { self.connection.withLock { body($0) } }
    }

    /// Closes the connection after everything queued before.
    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.connection.withLock { $0 = nil }
                continuation.resume()
            }
        }
    }
}

/// The read-only connections of a store: each read takes one that no other read is using, or opens one when all
/// are, and gives it back; `kept` of them stay open between reads.
private final class SQLiteReaders: Sendable {
    /// A connection in the pool, which hands it to one read at a time: all that a connection opened without
    /// SQLite's mutex allows.
    private final class Pooled: @unchecked Sendable {
        let connection: SQLiteConnection
        init(_ connection: SQLiteConnection) { self.connection = connection }
    }

    private struct State {
        var idle: [Pooled] = []
        var closed = false
    }

    private let path: String
    private let kept: Int
    private let state = Mutex(State())

    init(path: String, kept: Int) throws(SQLiteError) {
        self.path = path
        self.kept = kept
        let first = try Self.open(path)
        state.withLock { $0.idle.append(first) }
    }

    /// `body`'s result on a connection of the pool; nil once the pool is closed.
    func withConnection<T>(_ body: (SQLiteConnection) throws(SQLiteError) -> T) throws(SQLiteError) -> T? {
        let (idle, closed) = state.withLock { state in (state.idle.popLast(), state.closed) }
        guard !closed else { return nil }
        let pooled: Pooled
        if let idle { pooled = idle } else { pooled = try Self.open(path) }
        defer {
            state.withLock { state in
                if !state.closed && state.idle.count < kept { state.idle.append(pooled) }
            }
        }
        return try body(pooled.connection)
    }

    /// Closes the idle connections; those in use close as their reads end.
    func close() {
        state.withLock { state in
            state.closed = true
            state.idle = []
        }
    }

    private static func open(_ path: String) throws(SQLiteError) -> Pooled {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        try connection.execute("PRAGMA busy_timeout = 5000;")
        return Pooled(connection)
    }
}
