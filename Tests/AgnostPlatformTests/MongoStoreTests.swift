import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostPlatform

/// The MongoDB store against a MongoDB wire-protocol peer: the commands and documents libmongoc sends for each
/// operation, and what the store makes of the server's error replies and of a dropped connection.
///
/// Serialized: each test starts a Python peer, and fifteen starting at once on two cores starve the timing tests
/// that share their run (the event hub's).
@Suite(.serialized) struct MongoStoreTests {
    let body: [UInt8] = Array(#"{"name":"todo"}"#.utf8) + [0, 0xff, 0x80]

    /// Opens the store on a fresh peer scripted with `script`, runs `operation`, and returns the commands it sent
    /// after the indexes (a test of its own checks those).
    func sentCommands<T>(
        _ script: [MockMongo.Reply] = [],
        _ operation: (MongoStore) async throws -> T
    ) async throws -> (T, [MockMongo.Command]) {
        let mongo = try MockMongo(script: script)
        defer { mongo.stop() }
        let result = try await withMongoStore(uri: mongo.uri) { store in try await operation(store) }
        return (result, try mongo.commands().filter { $0.name != "createIndexes" })
    }

    func outcome<T>(_ operation: () async throws(StoreError) -> T) async -> Result<T, StoreError> {
        do throws(StoreError) {
            return .success(try await operation())
        } catch {
            return .failure(error)
        }
    }

    static func binary(_ bytes: [UInt8]) -> [String: Any] {
        ["$binary": ["base64": Data(bytes).base64EncodedString(), "subType": "00"]]
    }

    static var notPrimary: MockMongo.Reply { MockMongo.Reply("insert", error: 10107, "not primary") }

    @Test func openingMakesAUniqueIndexOnScopeAndNameInEachKindsCollection() async throws {
        let mongo = try MockMongo()
        defer { mongo.stop() }
        try await withMongoStore(uri: mongo.uri) { _ in }
        let indexes = try mongo.commands(named: "createIndexes")
        #expect(indexes.compactMap { $0.document["createIndexes"] as? String } == RecordKind.allCases.map(\.rawValue))
        for command in indexes {
            #expect(command.document["$db"] as? String == "agnost_test")
            let index = try #require((command.document["indexes"] as? [[String: Any]])?.first)
            #expect(index["key"] as? [String: Int] == ["scope": 1, "name": 1])
            #expect(index["unique"] as? Bool == true)
            #expect((command.document["writeConcern"] as? [String: Any])?["w"] as? String == "majority")
        }
    }

    @Test func aCreateInsertsTheRecordAtRevisionOneWithAMajorityWriteConcern() async throws {
        let key = RecordKey(.version, scope: "todo", name: "v1")
        let (created, sent) = try await sentCommands { store in try await store.create(key, body: body) }
        #expect(created == StoredRecord(key: key, revision: 1, body: body))
        let insert = try #require(sent.only)
        #expect(insert.name == "insert")
        #expect(insert.document["insert"] as? String == "version")
        let concern = try #require(insert.document["writeConcern"] as? [String: Any])
        #expect(concern["w"] as? String == "majority")
        #expect(concern["wtimeout"] as? Int == 10_000)
        let document = try #require((insert.document["documents"] as? [[String: Any]])?.only)
        #expect(document["scope"] as? String == "todo")
        #expect(document["name"] as? String == "v1")
        #expect(document["revision"] as? Int == 1)
        #expect(document["body"] as? NSDictionary == Self.binary(body) as NSDictionary)
        #expect((document["writeID"] as? String)?.count == 36)
    }

    @Test func aReadFindsByScopeAndNameAndKeepsTheBodyByteForByte() async throws {
        let key = RecordKey(.resource, scope: "todo", name: "maindb")
        let stored: [String: Any] = ["scope": "todo", "name": "maindb", "revision": 3, "body": Self.binary(body)]
        let found = MockMongo.Reply(
            "find",
            reply: ["cursor": ["id": 0, "ns": "agnost_test.resource", "firstBatch": [stored]]]
        )
        let (record, sent) = try await sentCommands([found]) { store in try await store.record(key) }
        #expect(record == StoredRecord(key: key, revision: 3, body: body))
        let find = try #require(sent.only)
        #expect(find.document["find"] as? String == "resource")
        #expect(find.document["filter"] as? [String: String] == ["scope": "todo", "name": "maindb"])
        #expect(find.document["limit"] as? Int == 1)
        #expect((find.document["readConcern"] as? [String: String]) == ["level": "majority"])
    }

    /// A document without a revision, or with a body that is not binary, is not taken for a record.
    @Test func aDocumentThatIsNotARecordIsAStorageFailureNamingWhereItIs() async throws {
        let key = RecordKey(.app, name: "todo")
        let malformed: [String: Any] = ["scope": "", "name": "todo", "body": "secret-looking text"]
        let found = MockMongo.Reply(
            "find",
            reply: ["cursor": ["id": 0, "ns": "agnost_test.app", "firstBatch": [malformed]]]
        )
        let (result, _) = try await sentCommands([found]) { store in
            await outcome { () async throws(StoreError) in try await store.record(key) }
        }
        #expect(result.failureCode == .storage)
        let message = try #require(result.failureMessage)
        #expect(message.contains("agnost_test.app holds a document for app todo that is not a record"), "\(message)")
        #expect(result.failureMessage?.contains("secret-looking") == false)
    }

    @Test func anUpdateFiltersOnTheRevisionItStartsFrom() async throws {
        let key = RecordKey(.app, name: "todo")
        let (updated, sent) = try await sentCommands { store in
            try await store.update(key, body: body, ifRevision: 4)
        }
        #expect(updated == StoredRecord(key: key, revision: 5, body: body))
        let update = try #require(sent.only)
        #expect(update.document["update"] as? String == "app")
        #expect((update.document["writeConcern"] as? [String: Any])?["w"] as? String == "majority")
        let statement = try #require((update.document["updates"] as? [[String: Any]])?.only)
        #expect(statement["q"] as? NSDictionary == ["scope": "", "name": "todo", "revision": 4] as NSDictionary)
        let set = try #require((statement["u"] as? [String: Any])?["$set"] as? [String: Any])
        #expect(set["revision"] as? Int == 5)
        #expect(set["body"] as? NSDictionary == Self.binary(body) as NSDictionary)
        #expect(statement["multi"] as? Bool != true)
    }

    /// An update that matched nothing reads the record to say why: gone, or at another revision.
    @Test func anUpdateThatMatchedNothingIsNotFoundOrAConflict() async throws {
        let key = RecordKey(.app, name: "todo")
        let nothing = MockMongo.Reply("update", reply: ["n": 0, "nModified": 0])
        let (gone, goneCommands) = try await sentCommands([nothing]) { store in
            await outcome { () async throws(StoreError) in try await store.update(key, body: body, ifRevision: 1) }
        }
        #expect(gone.failureCode == .notFound)
        #expect(goneCommands.map(\.name) == ["update", "find"])
        let moved: [String: Any] = ["scope": "", "name": "todo", "revision": 7, "body": Self.binary(body)]
        let (stale, _) = try await sentCommands([
            nothing,
            MockMongo.Reply("find", reply: ["cursor": ["id": 0, "ns": "agnost_test.app", "firstBatch": [moved]]]),
        ]) { store in
            await outcome { () async throws(StoreError) in try await store.update(key, body: body, ifRevision: 1) }
        }
        #expect(stale.failureCode == .revisionConflict)
        #expect(stale.failureMessage?.contains("revision 7, not 1") == true)
    }

    @Test func aListingSortsByNameAfterTheCursorAndAsksForOneMoreThanAPage() async throws {
        let documents = ["v2", "v3", "v4"].map { name -> [String: Any] in
            ["scope": "todo", "name": name, "revision": 1, "body": Self.binary(Array(name.utf8))]
        }
        let found = MockMongo.Reply(
            "find",
            reply: ["cursor": ["id": 0, "ns": "agnost_test.version", "firstBatch": documents]]
        )
        let (page, sent) = try await sentCommands([found]) { store in
            try await store.list(.version, scope: "todo", after: "v1", limit: 2)
        }
        #expect(
            page.records.map(\.key) == [
                RecordKey(.version, scope: "todo", name: "v2"), RecordKey(.version, scope: "todo", name: "v3"),
            ]
        )
        #expect(page.records.map(\.body) == [Array("v2".utf8), Array("v3".utf8)])
        #expect(page.next == "v3")
        let find = try #require(sent.only)
        #expect(find.document["filter"] as? NSDictionary == ["scope": "todo", "name": ["$gt": "v1"]] as NSDictionary)
        #expect(find.document["sort"] as? [String: Int] == ["name": 1])
        #expect(find.document["limit"] as? Int == 3)
    }

    @Test func aDeleteFiltersOnTheRevisionWhenGivenOne() async throws {
        let key = RecordKey(.apiKey, scope: "todo/v1", name: "mobile")
        let (_, sent) = try await sentCommands { store in
            try await store.delete(key, ifRevision: 2)
            try await store.delete(key, ifRevision: nil)
        }
        let filters = sent.compactMap { ($0.document["deletes"] as? [[String: Any]])?.only?["q"] as? NSDictionary }
        #expect(
            filters == [
                ["scope": "todo/v1", "name": "mobile", "revision": 2] as NSDictionary,
                ["scope": "todo/v1", "name": "mobile"] as NSDictionary,
            ]
        )
        #expect(sent.allSatisfy { ($0.document["writeConcern"] as? [String: Any])?["w"] as? String == "majority" })
    }

    @Test func aDuplicateKeyIsADuplicateAnd409() async throws {
        let duplicate = MockMongo.Reply(
            "insert",
            error: 11000,
            "E11000 duplicate key error collection: agnost_test.app"
        )
        let (result, sent) = try await sentCommands([duplicate]) { store in
            await outcome { () async throws(StoreError) in
                try await store.create(RecordKey(.app, name: "todo"), body: body)
            }
        }
        #expect(result.failureCode == .duplicate)
        #expect(result.failureMessage == "app todo exists already")
        #expect(result.failure.map { PlatformError($0).status } == 409)
        #expect(sent.map(\.name) == ["insert"])
    }

    /// The same document is sent again, so that a retry is the same write.
    @Test func notPrimaryOnceIsRetriedAndSucceeds() async throws {
        let key = RecordKey(.app, name: "todo")
        let (created, sent) = try await sentCommands([Self.notPrimary]) { store in
            try await store.create(key, body: body)
        }
        #expect(created.revision == 1)
        let inserts = sent.filter { $0.name == "insert" }
        #expect(inserts.count == 2)
        let documents = inserts.compactMap { ($0.document["documents"] as? [[String: Any]])?.only }
        #expect(documents.count == 2)
        let writeIDs = documents.compactMap { $0["writeID"] as? String }
        #expect(writeIDs.count == 2 && writeIDs.first == writeIDs.last)
    }

    @Test func notPrimaryTwiceIsUnavailableAnd503WithItsCause() async throws {
        let (result, sent) = try await sentCommands([Self.notPrimary, Self.notPrimary]) { store in
            await outcome { () async throws(StoreError) in
                try await store.create(RecordKey(.app, name: "todo"), body: body)
            }
        }
        #expect(result.failureCode == .unavailable)
        #expect(result.failureMessage?.contains("not primary") == true, "\(String(describing: result.failureMessage))")
        #expect(result.failureMessage?.contains("mongodb://127.0.0.1:") == true)
        #expect(result.failure.map { PlatformError($0).status } == 503)
        #expect(sent.filter { $0.name == "insert" }.count == 2)
    }

    /// The primary applied it, so trying again would only wait again: unavailable at once, with the reason.
    @Test func aWriteAMajorityDidNotConfirmInTimeIsUnavailableWithoutARetry() async throws {
        let timedOut = MockMongo.Reply(
            "insert",
            reply: ["n": 1, "writeConcernError": ["code": 64, "errmsg": "waiting for replication timed out"]]
        )
        let (result, sent) = try await sentCommands([timedOut]) { store in
            await outcome { () async throws(StoreError) in
                try await store.create(RecordKey(.app, name: "todo"), body: body)
            }
        }
        #expect(result.failureCode == .unavailable)
        let message = try #require(result.failureMessage)
        #expect(message.contains("did not confirm the write on a majority within 10000 ms"), "\(message)")
        #expect(message.contains("waiting for replication timed out"))
        #expect(sent.map(\.name) == ["insert"])
    }

    @Test func aDroppedConnectionIsRetriedOnceThenUnavailable() async throws {
        let key = RecordKey(.app, name: "todo")
        let (once, onceCommands) = try await sentCommands([.hangup("update")]) { store in
            try await store.update(key, body: body, ifRevision: 1)
        }
        #expect(once.revision == 2)
        #expect(onceCommands.map(\.name) == ["update", "update"])
        let (twice, twiceCommands) = try await sentCommands([.hangup("find"), .hangup("find")]) { store in
            await outcome { () async throws(StoreError) in try await store.record(key) }
        }
        #expect(twice.failureCode == .unavailable)
        #expect(twice.failureMessage?.contains("on a retry too") == true, "\(String(describing: twice.failureMessage))")
        #expect(twiceCommands.map(\.name) == ["find", "find"])
    }

    /// The first insert landed but its reply was lost; the retry's duplicate is that same write, by its writeID.
    @Test func aRetriedCreateWhoseFirstTryLandedSucceeds() async throws {
        let key = RecordKey(.app, name: "todo")
        let landed = MockMongo.Reply(
            "find",
            reply: ["cursor": ["id": 0, "ns": "agnost_test.app", "firstBatch": "$lastInserted"]]
        )
        let (created, sent) = try await sentCommands([
            .hangup("insert"), MockMongo.Reply("insert", error: 11000, "E11000 duplicate key error"), landed,
        ]) { store in try await store.create(key, body: body) }
        #expect(created == StoredRecord(key: key, revision: 1, body: body))
        #expect(sent.map(\.name) == ["insert", "insert", "find"])
        // Another writer's record under the key is still a duplicate.
        let other: [String: Any] = [
            "scope": "", "name": "todo", "revision": 1, "body": Self.binary(body), "writeID": "another write",
        ]
        let (taken, _) = try await sentCommands([
            .hangup("insert"), MockMongo.Reply("insert", error: 11000, "E11000 duplicate key error"),
            MockMongo.Reply("find", reply: ["cursor": ["id": 0, "ns": "agnost_test.app", "firstBatch": [other]]]),
        ]) { store in
            await outcome { () async throws(StoreError) in try await store.create(key, body: body) }
        }
        #expect(taken.failureCode == .duplicate)
    }

    @Test func aServerThatCannotBeReachedIsUnavailableAndItsPasswordNeverShows() async throws {
        let closed = try ClosedPort()
        let uri = "mongodb://agnost:S3cret-pw@127.0.0.1:\(closed.port)/agnost_test?serverSelectionTimeoutMS=300"
        let error = await #expect(throws: StoreError.self) { try await withMongoStore(uri: uri) { _ in } }
        #expect(error?.code == .unavailable)
        #expect(
            error?.message.contains("mongodb://agnost@127.0.0.1:\(closed.port)/agnost_test") == true,
            "\(String(describing: error?.message))"
        )
        #expect(error?.message.contains("S3cret-pw") == false)
        #expect(error?.context.contains("S3cret-pw") == false)
        let malformed = await #expect(throws: StoreError.self) {
            try await withMongoStore(uri: "mongodb://agnost:S3cret-pw@/agnost_test") { _ in }
        }
        #expect(malformed?.code == .storage)
        #expect(
            malformed?.message.hasPrefix("mongodb://agnost@/agnost_test is not a MongoDB connection string: ") == true,
            "\(String(describing: malformed?.message))"
        )
        #expect(malformed?.message.contains("S3cret-pw") == false)
    }

    @Test func aRedactedURIKeepsTheUserHostsAndDatabaseOnly() {
        let redaction = MongoRedaction(
            "mongodb+srv://agnost:p%40ss@cluster.example/platform?tlsCertificateKeyFilePassword=x"
        )
        #expect(redaction.location == "mongodb+srv://agnost@cluster.example/platform")
        #expect(redaction.scrub("auth failed for p@ss and p%40ss") == "auth failed for *** and ***")
        #expect(MongoRedaction("mongodb://h1:27017,h2").location == "mongodb://h1:27017,h2")
    }
}

extension Array {
    /// The one element, or nil when there are none or several.
    var only: Element? { count == 1 ? first : nil }
}

extension Result where Failure == StoreError {
    var failure: StoreError? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var failureCode: StoreError.Code? { failure?.code }
    var failureMessage: String? { failure?.message }
}
