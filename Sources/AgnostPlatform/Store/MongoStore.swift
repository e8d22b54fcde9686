import Foundation
import NIOPosix

/// Connects to the MongoDB deployment `uri` names, makes sure each collection of the database has its unique
/// index on scope and name, runs `body` with the store, and closes it once `body` returns or throws, after every
/// call it started.
///
/// ```swift
/// try await withMongoStore(uri: "mongodb://agnost:secret@db1,db2,db3/agnost?replicaSet=rs0") { store in
///     _ = try await store.create(RecordKey(.app, name: "todo"), body: Array(#"{"name":"todo"}"#.utf8))
/// }
/// ```
///
/// - Parameters:
///   - database: the database of the records; nil for the one `uri` names, or `agnost` when it names none.
///   - threads: how many libmongoc calls may block at once, each on a thread of its own and with a client of the
///     pool.
/// - Throws: ``StoreError`` when the URI does not parse or the server cannot be reached; its message names the
///   server, never the password.
public func withMongoStore<T>(
    uri: String,
    database: String? = nil,
    threads: Int = 4,
    _ body: (MongoStore) async throws -> T
) async throws -> T {
    let store = try await MongoStore(uri: uri, database: database, threads: threads)
    return try await closing(store, after: body)
}

/// The ``PlatformStore`` for several platform replicas: records in a MongoDB database, through libmongoc.
///
/// Each ``RecordKind`` has a collection of its own, named by the kind (`app`, `version`, …), so that a listing
/// reads one index range of one collection and an operator sees each kind apart; a unique index on
/// `(scope, name)` keeps keys unique. A record is a document `{scope, name, revision, body, writeID}` whose body is
/// binary, kept byte for byte.
///
/// Every write waits for a majority of the replica set (`w: majority`) and every read asks for majority-committed
/// data, so that what one replica wrote, another reads, and a failover loses nothing acknowledged. A call that
/// fails in a way that says nothing of the operation (the primary stepped down, the connection dropped, no server
/// could be selected) is tried once more, then reported as `unavailable` with its cause. libmongoc's own retries
/// are off so that this is the one policy: a retried write whose first try did land is recognized by its
/// `writeID` instead of reported as a duplicate or a conflict.
///
/// libmongoc blocks, so its calls run on threads of the store's own, never on the cooperative pool.
///
/// Open one with ``withMongoStore(uri:database:threads:_:)``.
public final class MongoStore: PlatformStore {
    /// The server and database, without the password: `mongodb://agnost@db1,db2/agnost`.
    public var location: String { redaction.location }
    private let redaction: MongoRedaction
    private let database: String
    private let pool: MongoClientPool
    private let threads: NIOThreadPool

    /// A write waits this long for a majority before it is reported unavailable.
    private static let majorityTimeout: Int32 = 10_000

    fileprivate init(uri text: String, database: String?, threads count: Int) async throws(StoreError) {
        let uri = try MongoURI(text)
        // Tries that fail fast leave time for the one retry within an API request.
        uri.setDefault("serverSelectionTimeoutMS", milliseconds: 5000)
        uri.setDefault("connectTimeoutMS", milliseconds: 5000)
        uri.set("retryWrites", false)
        uri.set("retryReads", false)
        redaction = uri.redaction
        self.database = database ?? uri.database ?? "agnost"
        pool = try MongoClientPool(uri, size: max(1, count))
        threads = NIOThreadPool(numberOfThreads: max(1, count))
        threads.start()
        do throws(StoreError) {
            for kind in RecordKind.allCases { try await createIndex(of: kind) }
        } catch {
            await close()
            throw error
        }
    }

    public func create(_ key: RecordKey, body: [UInt8]) async throws(StoreError) -> StoredRecord {
        let writeID = UUID().uuidString
        return try await run(key.description) { connection, retrying throws(MongoError) in
            let document = BSONDocument(
                fields: Self.keyFields(key) + [
                    ("revision", .int64(1)), ("body", .binary(body)), ("writeID", .string(writeID)),
                ]
            )
            do throws(MongoError) {
                try connection.withCollection(key.kind.rawValue, in: self.database) { collection throws(MongoError) in
                    try collection.insertOne(document, options: Self.writeOptions)
                }
            } catch {
                guard error.isDuplicateKey else { throw error }
                // A retry that finds what its first try wrote: that try landed and only its reply was lost.
                guard retrying, try self.fetch(key, on: connection)?.writeID == writeID else {
                    return .failure(StoreError(.duplicate, "\(key) exists already", context: key.description))
                }
            }
            return .success(StoredRecord(key: key, revision: 1, body: body))
        }
    }

    public func record(_ key: RecordKey) async throws(StoreError) -> StoredRecord? {
        try await run(key.description) { connection, _ throws(MongoError) in
            .success(try self.fetch(key, on: connection)?.record)
        }
    }

    public func update(
        _ key: RecordKey,
        body: [UInt8],
        ifRevision revision: Int
    ) async throws(StoreError) -> StoredRecord {
        let writeID = UUID().uuidString
        let updated = StoredRecord(key: key, revision: revision + 1, body: body)
        return try await run(key.description) { connection, retrying throws(MongoError) in
            let filter = BSONDocument(fields: Self.keyFields(key) + [("revision", .int64(Int64(revision)))])
            let change = BSONDocument([
                "$set": .document(
                    BSONDocument([
                        "revision": .int64(Int64(revision + 1)), "body": .binary(body), "writeID": .string(writeID),
                    ])
                )
            ])
            let matched = try connection.withCollection(key.kind.rawValue, in: self.database) {
                collection throws(MongoError) in
                try collection.updateOne(filter, change, options: Self.writeOptions)
            }
            guard matched == 0 else { return .success(updated) }
            let current = try self.fetch(key, on: connection)
            if retrying, let current, current.writeID == writeID, current.record.revision == revision + 1 {
                return .success(updated)
            }
            return .failure(StoreError.unchanged(key, at: current?.record.revision, expected: revision))
        }
    }

    public func delete(_ key: RecordKey, ifRevision revision: Int?) async throws(StoreError) {
        try await run(key.description) { connection, retrying throws(MongoError) in
            let filter = BSONDocument(
                fields: Self.keyFields(key) + (revision.map { [("revision", .int64(Int64($0)))] } ?? [])
            )
            let deleted = try connection.withCollection(key.kind.rawValue, in: self.database) {
                collection throws(MongoError) in
                try collection.deleteOne(filter, options: Self.writeOptions)
            }
            guard deleted == 0 else { return .success(()) }
            let current = try self.fetch(key, on: connection)
            // Gone on a retry: the first try, whose reply was lost, removed it (or another did; gone either way).
            if retrying, current == nil { return .success(()) }
            return .failure(StoreError.unchanged(key, at: current?.record.revision, expected: revision))
        }
    }

    public func list(
        _ kind: RecordKind,
        scope: String,
        after cursor: String?,
        limit: Int
    ) async throws(StoreError) -> StorePage {
        let limit = max(1, limit)
        return try await run("\(kind.rawValue)s of scope '\(scope)'") { connection, _ throws(MongoError) in
            let filter = BSONDocument([
                "scope": .string(scope), "name": .document(BSONDocument(["$gt": .string(cursor ?? "")])),
            ])
            // One more than asked tells whether a next page exists.
            let options = BSONDocument([
                "sort": .document(BSONDocument(["name": .int32(1)])), "limit": .int64(Int64(limit + 1)),
                "readConcern": .document(Self.majorityRead),
            ])
            let documents = try connection.withCollection(kind.rawValue, in: self.database) {
                collection throws(MongoError) in
                try collection.find(filter, options: options)
            }
            var records: [StoredRecord] = []
            for document in documents.prefix(limit) {
                guard let name = document.string("name") else {
                    throw self.notARecord(in: kind, "without a name")
                }
                records.append(try self.stored(document, key: RecordKey(kind, scope: scope, name: name)).record)
            }
            return .success(StorePage(records: records, next: documents.count > limit ? records.last?.key.name : nil))
        }
    }

    /// Waits for every call started before, then stops the store's threads; the pool closes with the store.
    func close() async {
        try? await threads.shutdownGracefully()
    }

    // MARK: Calls

    /// Runs `attempt` on one of the store's threads with a client of the pool, once more (with `retrying` true)
    /// when it failed transiently, and reports a second transient failure as unavailable, with its cause.
    private func run<T: Sendable>(
        _ subject: String,
        _ attempt: @escaping @Sendable (MongoConnection, _ retrying: Bool) throws(MongoError) -> Result<T, StoreError>
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError>
        do {
            result = try await threads.runIfActive {
                do throws(MongoError) {
                    return try self.pool.withClient { connection throws(MongoError) in try attempt(connection, false) }
                } catch {
                    guard error.isTransient else { return .failure(self.storeError(error, subject)) }
                }
                do throws(MongoError) {
                    return try self.pool.withClient { connection throws(MongoError) in try attempt(connection, true) }
                } catch {
                    return .failure(self.storeError(error, subject))
                }
            }
        } catch {
            throw StoreError(.unavailable, "the MongoDB store \(location) is closed", context: location)
        }
        return try result.get()
    }

    private func storeError(_ error: MongoError, _ subject: String) -> StoreError {
        let cause = redaction.scrub(error.message)
        let (code, message): (StoreError.Code, String) =
            if error.isTransient {
                (.unavailable, "the MongoDB store \(location) is unavailable, on a retry too (\(subject)): \(cause)")
            } else if error.isAuthentication {
                (.unavailable, "the MongoDB store \(location) refused the credentials (\(subject)): \(cause)")
            } else if error.isMajorityTimeout {
                (
                    .unavailable,
                    "the MongoDB store \(location) did not confirm the write on a majority within "
                        + "\(Self.majorityTimeout) ms (\(subject)): \(cause)"
                )
            } else {
                (.storage, "the MongoDB store \(location) failed (\(subject)): \(cause) (code \(error.code))")
            }
        return StoreError(code, message, context: location, underlying: error)
    }

    private func createIndex(of kind: RecordKind) async throws(StoreError) {
        try await run("the unique index of \(database).\(kind.rawValue)") { connection, _ throws(MongoError) in
            let command = BSONDocument([
                "createIndexes": .string(kind.rawValue),
                "indexes": .array([
                    .document(
                        BSONDocument([
                            "key": .document(BSONDocument(["scope": .int32(1), "name": .int32(1)])),
                            "name": .string("scope_name_unique"), "unique": .bool(true),
                        ])
                    )
                ]),
            ])
            try connection.writeCommand(command, in: self.database, options: Self.writeOptions)
            return .success(())
        }
    }

    // MARK: Documents

    private static var writeOptions: BSONDocument { BSONDocument(["writeConcern": .document(majorityWrite)]) }

    private static var majorityWrite: BSONDocument {
        BSONDocument(["w": .string("majority"), "wtimeout": .int32(majorityTimeout)])
    }

    private static var majorityRead: BSONDocument { BSONDocument(["level": .string("majority")]) }

    private static func keyFields(_ key: RecordKey) -> [(key: String, value: BSONValue)] {
        [("scope", .string(key.scope)), ("name", .string(key.name))]
    }

    /// The record at `key` and the write that made it.
    private func fetch(_ key: RecordKey, on connection: MongoConnection) throws(MongoError) -> FetchedRecord? {
        let options = BSONDocument([
            "limit": .int64(1), "singleBatch": .bool(true), "readConcern": .document(Self.majorityRead),
        ])
        let documents = try connection.withCollection(key.kind.rawValue, in: database) {
            collection throws(MongoError) in
            try collection.find(BSONDocument(fields: Self.keyFields(key)), options: options)
        }
        return try documents.first.map { document throws(MongoError) in try stored(document, key: key) }
    }

    private struct FetchedRecord: Equatable {
        var record: StoredRecord
        /// The write that made this revision, to recognize a retried write whose first try landed.
        var writeID: String?
    }

    private func stored(_ document: BSONDocument, key: RecordKey) throws(MongoError) -> FetchedRecord {
        guard let revision = document.integer("revision"), let body = document.binary("body") else {
            throw notARecord(in: key.kind, "for \(key)")
        }
        return FetchedRecord(
            record: StoredRecord(key: key, revision: Int(revision), body: body),
            writeID: document.string("writeID")
        )
    }

    /// A stored document the store cannot read as a record, named by where it is (`for app todo`), not by its
    /// contents, as a body may hold sealed secrets.
    private func notARecord(in kind: RecordKind, _ which: String) -> MongoError {
        .notARecord(
            "\(database).\(kind.rawValue) holds a document \(which) that is not a record: a record has a scope, a "
                + "name, an integer revision and a binary body"
        )
    }
}
