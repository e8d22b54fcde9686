import CSQLite
import Foundation
import Hummingbird
import Synchronization

/// The stored record of a version, as the platform writes it; dates stay the RFC 3339 text they are stored as.
struct StoredVersion: Decodable {
    struct Link: Codable {
        var resource: String
        var app: String?
    }
    var app: String
    var name: String
    var specDigest: String
    var state: String
    var links: [String: Link]
    var createdAt: String
    var updatedAt: String
}

/// A version as the platform's API shows it: the record without its spec.
struct VersionJSON: Encodable {
    var app: String
    var name: String
    var specDigest: String
    var state: String
    var links: [String: StoredVersion.Link]
    var createdAt: String
    var updatedAt: String
}

struct Page: Encodable {
    var items: [VersionJSON]
    var next: String?
}

struct ReferenceError: Error, CustomStringConvertible {
    var description: String
}

/// One read-only connection to the platform's file, with its prepared query; closed in deinit. Unchecked Sendable:
/// the pool hands each to one request at a time, which is all a connection opened without a mutex allows.
final class VersionReader: @unchecked Sendable {
    private let database: OpaquePointer
    private let statement: OpaquePointer

    init(path: String) throws {
        var database: OpaquePointer?
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            let database
        else {
            sqlite3_close(database)
            throw ReferenceError(description: "cannot open \(path) read-only")
        }
        var statement: OpaquePointer?
        let query =
            "SELECT name, body FROM records WHERE kind = 'version' AND scope = ? AND name > ? ORDER BY name LIMIT ?"
        guard sqlite3_prepare_v2(database, query, -1, &statement, nil) == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(database))
            sqlite3_close(database)
            throw ReferenceError(description: "cannot prepare the query: \(message)")
        }
        self.database = database
        self.statement = statement
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close(database)
    }

    /// Up to `limit` versions of `app` after `cursor`, and the cursor of the next page.
    func page(app: String, after cursor: String, limit: Int) throws -> Page {
        defer { sqlite3_reset(statement) }
        sqlite3_bind_text(statement, 1, app, -1, csqlite_transient())
        sqlite3_bind_text(statement, 2, cursor, -1, csqlite_transient())
        sqlite3_bind_int64(statement, 3, Int64(limit + 1))
        let decoder = JSONDecoder()
        var items: [VersionJSON] = []
        var more = false
        while true {
            let step = sqlite3_step(statement)
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else {
                throw ReferenceError(description: String(cString: sqlite3_errmsg(database)))
            }
            if items.count == limit {
                more = true
                break
            }
            let bytes = sqlite3_column_blob(statement, 1)
            let count = Int(sqlite3_column_bytes(statement, 1))
            let body = bytes.map { Data(bytes: $0, count: count) } ?? Data()
            let stored = try decoder.decode(StoredVersion.self, from: body)
            items.append(
                VersionJSON(
                    app: stored.app,
                    name: stored.name,
                    specDigest: stored.specDigest,
                    state: stored.state,
                    links: stored.links,
                    createdAt: stored.createdAt,
                    updatedAt: stored.updatedAt
                )
            )
        }
        return Page(items: items, next: more ? items.last?.name : nil)
    }
}

/// As many readers as event loops may ask at once; a request takes one, reads and gives it back.
final class ReaderPool: Sendable {
    private let idle: Mutex<[VersionReader]>
    private let path: String

    init(path: String, count: Int) throws {
        self.path = path
        idle = Mutex(try (0..<count).map { _ in try VersionReader(path: path) })
    }

    func withReader<T>(_ body: (VersionReader) throws -> T) throws -> T {
        let reader = try idle.withLock { $0.popLast() } ?? VersionReader(path: path)
        defer { idle.withLock { $0.append(reader) } }
        return try body(reader)
    }
}

guard let path = Environment().get("PLATFORM_SQLITE") else {
    fatalError("PLATFORM_SQLITE names the platform's SQLite file")
}
let pool = try ReaderPool(path: path, count: ProcessInfo.processInfo.activeProcessorCount)
let router = Router()
router.get("/v1/apps/:app/versions") { request, context -> Response in
    let app = try context.parameters.require("app")
    let limit = min(max(request.uri.queryParameters.get("limit", as: Int.self) ?? 50, 1), 500)
    let after = request.uri.queryParameters.get("after") ?? ""
    let page = try pool.withReader { try $0.page(app: app, after: after, limit: limit) }
    return Response(
        status: .ok,
        headers: [.contentType: "application/json"],
        body: ResponseBody(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(page)))
    )
}
let port = Environment().get("PORT").flatMap(Int.init) ?? 8091
let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await application.runService()
