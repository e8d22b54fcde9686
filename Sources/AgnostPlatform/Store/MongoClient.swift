internal import CMongoC

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libmongoc's process-wide state: initialized once, on first use, and cleaned up as the process exits.
enum MongoLibrary {
    static let initialized: Void = {
        mongoc_init()
        // libmongoc would log to stderr, hosts and URI options included; the store reports its failures itself.
        mongoc_log_set_handler(nil, nil)
        atexit { mongoc_cleanup() }
    }()
}

/// A failed libmongoc call: its error domain and code (the server's own code for a server's error) and message.
struct MongoError: Error, Sendable, CustomStringConvertible {
    var domain: UInt32
    var code: UInt32
    var message: String

    init(_ error: bson_error_t) {
        domain = error.domain
        code = error.code
        message = withUnsafeBytes(of: error.message) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    init(domain: UInt32, code: UInt32, message: String) {
        self.domain = domain
        self.code = code
        self.message = message
    }

    var description: String { message }

    private var isServerReply: Bool {
        domain == MONGOC_ERROR_SERVER.rawValue || domain == MONGOC_ERROR_WRITE_CONCERN.rawValue
    }

    /// A unique index (the one on scope and name) refused the write.
    var isDuplicateKey: Bool { isServerReply && code == 11_000 }

    /// A failure that says nothing of the operation itself, so that trying it once more may succeed: the server is
    /// no longer (or not yet) the primary, or is shutting down; the connection dropped or timed out; no server could
    /// be selected. The server codes are those the retryable-writes specification lists.
    var isTransient: Bool {
        if domain == MONGOC_ERROR_STREAM.rawValue || domain == MONGOC_ERROR_SERVER_SELECTION.rawValue { return true }
        guard isServerReply else { return false }
        let transientCodes: Set<UInt32> = [
            6, 7, 89, 91, 189, 262, 9001, 10_058, 10_107, 11_600, 11_602, 13_435, 13_436,
        ]
        return transientCodes.contains(code) || message.contains("not master") || message.contains("not primary")
    }

    /// A stored document that is not a record, reported as libbson reports a document it cannot read.
    static func notARecord(_ message: String) -> MongoError {
        MongoError(domain: MONGOC_ERROR_BSON.rawValue, code: MONGOC_ERROR_BSON_INVALID.rawValue, message: message)
    }

    /// A write the primary applied that a majority did not acknowledge within the write concern's timeout.
    var isMajorityTimeout: Bool { domain == MONGOC_ERROR_WRITE_CONCERN.rawValue && code == 64 }

    /// The server refused the credentials, or the client could not authenticate.
    var isAuthentication: Bool {
        (domain == MONGOC_ERROR_CLIENT.rawValue && code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue)
            || domain == MONGOC_ERROR_SASL.rawValue || (isServerReply && code == 18)
    }
}

/// What a message may say of a MongoDB connection string: the URI without its password or query (whose options
/// may hold secrets too), and the password to mask should libmongoc ever quote it.
struct MongoRedaction: Sendable {
    /// `scheme://user@hosts/database` of `scheme://user:password@hosts/database?options`.
    let location: String
    private let password: String?

    init(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else {
            location = "a MongoDB connection string"
            password = nil
            return
        }
        let withoutQuery = text[schemeEnd.upperBound...].prefix { $0 != "?" }
        let authorityEnd = withoutQuery.firstIndex(of: "/") ?? withoutQuery.endIndex
        var authority = withoutQuery[..<authorityEnd]
        var user = ""
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            let colon = userinfo.firstIndex(of: ":")
            user = String(userinfo[..<(colon ?? userinfo.endIndex)]) + "@"
            password = colon.map { String(userinfo[userinfo.index(after: $0)...]) }
            authority = authority[authority.index(after: at)...]
        }
        location = "\(text[..<schemeEnd.upperBound])\(user)\(authority)\(withoutQuery[authorityEnd...])"
        self.password = password
    }

    /// `message` with the password, as written or percent-decoded, masked.
    func scrub(_ message: String) -> String {
        guard let password, !password.isEmpty else { return message }
        var scrubbed = message.replacing(password, with: "***")
        if let decoded = password.removingPercentEncoding, !decoded.isEmpty {
            scrubbed = scrubbed.replacing(decoded, with: "***")
        }
        return scrubbed
    }
}

/// A parsed MongoDB connection string, the sole owner of its `mongoc_uri_t`.
final class MongoURI {
    let handle: OpaquePointer
    let redaction: MongoRedaction

    init(_ text: String) throws(StoreError) {
        _ = MongoLibrary.initialized
        redaction = MongoRedaction(text)
        var error = bson_error_t()
        guard let handle = mongoc_uri_new_with_error(text, &error) else {
            throw StoreError(
                .storage,
                "\(redaction.location) is not a MongoDB connection string: \(redaction.scrub(MongoError(error).message))",
                context: redaction.location
            )
        }
        self.handle = handle
    }

    deinit { mongoc_uri_destroy(handle) }

    /// The database the URI names, if any.
    var database: String? {
        guard let name = mongoc_uri_get_database(handle) else { return nil }
        return String(cString: name)
    }

    /// Sets `option` unless the URI does.
    func setDefault(_ option: String, milliseconds: Int32) {
        if !mongoc_uri_has_option(handle, option) { mongoc_uri_set_option_as_int32(handle, option, milliseconds) }
    }

    func set(_ option: String, milliseconds: Int32) {
        mongoc_uri_set_option_as_int32(handle, option, milliseconds)
    }

    func set(_ option: String, _ value: Bool) {
        mongoc_uri_set_option_as_bool(handle, option, value)
    }
}

/// A pool of libmongoc clients for one deployment (a replica set, a standalone server), the sole owner of its
/// `mongoc_client_pool_t`, which is thread-safe; each client it lends is used by one thread at a time.
final class MongoClientPool: @unchecked Sendable {
    private let handle: OpaquePointer

    init(_ uri: MongoURI, size: Int) throws(StoreError) {
        var error = bson_error_t()
        guard let handle = mongoc_client_pool_new_with_error(uri.handle, &error) else {
            throw StoreError(
                .storage,
                "cannot use \(uri.redaction.location): \(uri.redaction.scrub(MongoError(error).message))",
                context: uri.redaction.location
            )
        }
        self.handle = handle
        mongoc_client_pool_set_error_api(handle, MONGOC_ERROR_API_VERSION_2)
        mongoc_client_pool_max_size(handle, UInt32(size))
    }

    deinit { mongoc_client_pool_destroy(handle) }

    /// Runs `body` with a client of the pool, blocking until one is free, and gives it back.
    func withClient<T>(_ body: (MongoConnection) throws(MongoError) -> T) throws(MongoError) -> T {
        // Pop waits for a free client rather than fail; the store's threads never outnumber the pool's clients.
        let client = mongoc_client_pool_pop(handle)!
        defer { mongoc_client_pool_push(handle, client) }
        return try body(MongoConnection(client: client))
    }
}

/// A client on loan from a ``MongoClientPool`` (or owned by a ``MongoSingleClient``), for the calls of one thread.
struct MongoConnection {
    fileprivate let client: OpaquePointer

    /// Runs `body` with the collection `name` of `database`.
    func withCollection<T>(
        _ name: String,
        in database: String,
        _ body: (MongoCollection) throws(MongoError) -> T
    ) throws(MongoError) -> T {
        try body(MongoCollection(mongoc_client_get_collection(client, database, name)))
    }

    /// Runs a command that writes, such as `createIndexes`, with `options` such as its write concern (there, not
    /// in the command, so that libmongoc adds no second one), and returns the server's reply.
    @discardableResult
    func writeCommand(
        _ command: BSONDocument,
        in database: String,
        options: BSONDocument = BSONDocument()
    ) throws(MongoError) -> BSONDocument {
        let reply = BSONDocument()
        var error = bson_error_t()
        guard
            mongoc_client_write_command_with_opts(
                client,
                database,
                command.pointer,
                options.pointer,
                reply.pointer,
                &error
            )
        else { throw MongoError(error) }
        return reply
    }

    /// Runs a command that reads, such as `ping`, on the primary, and returns the server's reply.
    @discardableResult
    func readCommand(_ command: BSONDocument, in database: String) throws(MongoError) -> BSONDocument {
        let reply = BSONDocument()
        var error = bson_error_t()
        guard mongoc_client_read_command_with_opts(client, database, command.pointer, nil, nil, reply.pointer, &error)
        else { throw MongoError(error) }
        return reply
    }
}

/// One libmongoc client of its own, for a one-off command such as a reachability check, freed in deinit.
final class MongoSingleClient {
    private let client: OpaquePointer

    init(_ uri: MongoURI) throws(MongoError) {
        var error = bson_error_t()
        guard let client = mongoc_client_new_from_uri_with_error(uri.handle, &error) else {
            throw MongoError(error)
        }
        self.client = client
        mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2)
    }

    deinit { mongoc_client_destroy(client) }

    /// Runs `body` with the client, which lives at least until `body` returns.
    func withConnection<T>(_ body: (MongoConnection) throws(MongoError) -> T) throws(MongoError) -> T {
        defer { withExtendedLifetime(self) {} }
        return try body(MongoConnection(client: client))
    }
}

/// A collection handle, the sole owner of its `mongoc_collection_t`.
final class MongoCollection {
    private let handle: OpaquePointer

    fileprivate init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { mongoc_collection_destroy(handle) }

    /// Inserts `document`; libmongoc adds its `_id`.
    func insertOne(_ document: BSONDocument, options: BSONDocument) throws(MongoError) {
        let reply = BSONDocument()
        var error = bson_error_t()
        // The reply is not read, so its lifetime is extended over the call explicitly.
        let inserted = withExtendedLifetime(reply) {
            mongoc_collection_insert_one(handle, document.pointer, options.pointer, reply.pointer, &error)
        }
        guard inserted else { throw MongoError(error) }
    }

    /// Applies `update` to the first document `filter` matches, and says how many matched (0 or 1).
    func updateOne(_ filter: BSONDocument, _ update: BSONDocument, options: BSONDocument) throws(MongoError) -> Int64 {
        let reply = BSONDocument()
        var error = bson_error_t()
        guard
            mongoc_collection_update_one(
                handle,
                filter.pointer,
                update.pointer,
                options.pointer,
                reply.pointer,
                &error
            )
        else { throw MongoError(error) }
        return reply.integer("matchedCount") ?? 0
    }

    /// Deletes the first document `filter` matches, and says how many it deleted (0 or 1).
    func deleteOne(_ filter: BSONDocument, options: BSONDocument) throws(MongoError) -> Int64 {
        let reply = BSONDocument()
        var error = bson_error_t()
        guard mongoc_collection_delete_one(handle, filter.pointer, options.pointer, reply.pointer, &error) else {
            throw MongoError(error)
        }
        return reply.integer("deletedCount") ?? 0
    }

    /// Every document `filter` matches, with `options` such as `sort` and `limit`, read to the cursor's end.
    func find(_ filter: BSONDocument, options: BSONDocument) throws(MongoError) -> [BSONDocument] {
        let cursor = MongoCursor(mongoc_collection_find_with_opts(handle, filter.pointer, options.pointer, nil))
        return try cursor.all()
    }
}

/// A query's cursor, the sole owner of its `mongoc_cursor_t`.
private final class MongoCursor {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { mongoc_cursor_destroy(handle) }

    func all() throws(MongoError) -> [BSONDocument] {
        var documents: [BSONDocument] = []
        var current: OpaquePointer?
        while mongoc_cursor_next(handle, &current), let current {
            documents.append(BSONDocument(copying: current))
        }
        var error = bson_error_t()
        if mongoc_cursor_error(handle, &error) { throw MongoError(error) }
        return documents
    }
}
