internal import CSQLite

/// A value bound to, or read from, an SQL statement.
enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// A failed SQLite call: its result code (extended) and the connection's message.
struct SQLiteError: Error, Sendable, CustomStringConvertible {
    var code: Int32
    var message: String

    var description: String { "\(message) (SQLite code \(code))" }

    /// A constraint, such as the primary key, refused the change.
    var isConstraint: Bool { code & 0xff == SQLITE_CONSTRAINT }
    /// Another connection held a lock longer than the busy timeout.
    var isBusy: Bool { code & 0xff == SQLITE_BUSY || code & 0xff == SQLITE_LOCKED }
}

/// One open SQLite database connection, the sole owner of its handle and of the statements it prepared, which it
/// keeps and reuses: each SQL text is compiled once. Not thread-safe: one thread uses it at a time.
final class SQLiteConnection {
    let path: String
    private let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (creating when `create`) the database at `path`.
    init(path: String, readOnly: Bool, create: Bool = false) throws(SQLiteError) {
        var opened: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX
        if create && !readOnly { flags |= SQLITE_OPEN_CREATE }
        let result = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else { throw SQLiteError(code: result, message: "out of memory opening \(path)") }
        guard result == SQLITE_OK else {
            let error = SQLiteError(
                code: sqlite3_extended_errcode(opened),
                message: String(cString: sqlite3_errmsg(opened))
            )
            sqlite3_close_v2(opened)
            throw error
        }
        self.path = path
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
    }

    deinit {
        // Finalized before the handle closes, so that closing frees everything at once.
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs SQL statements that return nothing worth reading, such as pragmas and schema changes.
    func execute(_ sql: String) throws(SQLiteError) {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw lastError() }
    }

    /// Runs one statement with `bindings` for its `?` parameters and returns its rows.
    @discardableResult
    func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws(SQLiteError) -> [[SQLiteValue]] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement.handle)
            sqlite3_clear_bindings(statement.handle)
        }
        for (index, value) in bindings.enumerated() {
            try bind(value, at: Int32(index + 1), in: statement.handle)
        }
        var rows: [[SQLiteValue]] = []
        while true {
            switch sqlite3_step(statement.handle) {
            case SQLITE_ROW:
                rows.append(
                    (0..<sqlite3_column_count(statement.handle)).map { column(Int32($0), of: statement.handle) }
                )
            case SQLITE_DONE:
                return rows
            default:
                throw lastError()
            }
        }
    }

    /// The rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes(handle)) }

    private func prepared(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let statement = statements[sql] { return statement }
        var compiled: OpaquePointer?
        guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &compiled, nil) == SQLITE_OK,
            let compiled
        else { throw lastError() }
        let statement = SQLiteStatement(handle: compiled)
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer) throws(SQLiteError) {
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns, so it keeps no pointer of ours.
        let result: Int32
        switch value {
        case .integer(let integer): result = sqlite3_bind_int64(statement, index, integer)
        case .text(let text): result = sqlite3_bind_text(statement, index, text, -1, csqlite_transient())
        case .blob(let bytes):
            result = bytes.withUnsafeBytes { buffer in
                // A zero-length blob still needs a pointer, or SQLite stores NULL.
                sqlite3_bind_blob(
                    statement,
                    index,
                    buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                    Int32(buffer.count),
                    csqlite_transient()
                )
            }
        case .null: result = sqlite3_bind_null(statement, index)
        }
        guard result == SQLITE_OK else { throw lastError() }
    }

    private func column(_ index: Int32, of statement: OpaquePointer) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_TEXT: return .text(String(cString: sqlite3_column_text(statement, index)))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func lastError() -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A compiled statement, finalized with its owner.
private final class SQLiteStatement {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }

    deinit { sqlite3_finalize(handle) }
}
