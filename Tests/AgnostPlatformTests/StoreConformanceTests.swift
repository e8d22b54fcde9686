import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostPlatform

/// A store the conformance suite runs against, fresh for each test.
enum StoreUnderTest: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    /// A real MongoDB, at `AGNOST_TEST_MONGODB_URI`, in a database of the test's own, dropped afterwards.
    case mongodb

    /// The MongoDB the suite runs against, such as `mongodb://127.0.0.1:27017`; it needs the right to create and
    /// drop databases.
    static let mongoURI = ProcessInfo.processInfo.environment["AGNOST_TEST_MONGODB_URI"].flatMap {
        $0.isEmpty ? nil : $0
    }

    /// The stores the suite runs against here: MongoDB only when `AGNOST_TEST_MONGODB_URI` names one, which
    /// ``StoreConformanceTests/twoPlatformReplicasShareOneMongoDB()``, skipped otherwise, shows.
    static var available: [StoreUnderTest] { mongoURI == nil ? [.sqlite] : allCases }

    static let mongoSkipped: Comment = """
        no MongoDB here; set AGNOST_TEST_MONGODB_URI to a MongoDB's connection string to run the store \
        conformance suite against it too
        """

    var testDescription: String { rawValue }

    func withStore(_ body: (any PlatformStore) async throws -> Void) async throws {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-store-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try await withSQLiteStore(path: directory.appendingPathComponent("platform.sqlite").path) { store in
                try await body(store)
            }
        case .mongodb:
            guard let uri = Self.mongoURI else { throw FixtureFailure("AGNOST_TEST_MONGODB_URI is not set") }
            let database = "agnost_conformance_\(UUID().uuidString.prefix(8).lowercased())"
            do {
                try await withMongoStore(uri: uri, database: database) { store in try await body(store) }
            } catch {
                try Self.drop(database, at: uri)
                throw error
            }
            try Self.drop(database, at: uri)
        }
    }

    /// Drops the test's database, through libmongoc as the store reaches it; blocking, as teardown may.
    static func drop(_ database: String, at uri: String) throws {
        _ = try MongoSingleClient(try MongoURI(uri)).withConnection { connection throws(MongoError) in
            try connection.writeCommand(BSONDocument(["dropDatabase": .int32(1)]), in: database)
        }
    }
}

/// The contract of ``PlatformStore``, which every implementation keeps.
@Suite struct StoreConformanceTests {
    func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    func outcome<T>(_ operation: () async throws(StoreError) -> T) async -> Result<T, StoreError> {
        do throws(StoreError) {
            return .success(try await operation())
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func aCreatedRecordReadsBackAtRevisionOne(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let key = RecordKey(.app, name: "todo")
            let created = try await store.create(key, body: body(#"{"name":"todo"}"#))
            #expect(created == StoredRecord(key: key, revision: 1, body: body(#"{"name":"todo"}"#)))
            #expect(try await store.record(key) == created)
            #expect(try await store.record(RecordKey(.app, name: "other")) == nil)
            #expect(try await store.record(RecordKey(.version, name: "todo")) == nil)
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func aKeyIsUniqueWithinItsKindAndScope(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            _ = try await store.create(RecordKey(.version, scope: "todo", name: "v1"), body: body("1"))
            let error = await #expect(throws: StoreError.self) {
                _ = try await store.create(RecordKey(.version, scope: "todo", name: "v1"), body: body("2"))
            }
            #expect(error?.code == .duplicate)
            #expect(error?.message.contains("todo/v1") == true)
            // The same name in another scope or of another kind is another record.
            _ = try await store.create(RecordKey(.version, scope: "shop", name: "v1"), body: body("3"))
            _ = try await store.create(RecordKey(.apiKey, scope: "todo", name: "v1"), body: body("4"))
            #expect(try await store.record(RecordKey(.version, scope: "todo", name: "v1"))?.body == body("1"))
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func anUpdateFromTheCurrentRevisionMovesItOn(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let key = RecordKey(.resource, name: "maindb")
            _ = try await store.create(key, body: body("a"))
            let updated = try await store.update(key, body: body("b"), ifRevision: 1)
            #expect(updated.revision == 2)
            #expect(try await store.record(key) == StoredRecord(key: key, revision: 2, body: body("b")))
        }
    }

    /// Two updates from the same revision: one wins, the other is told and changes nothing.
    @Test(arguments: StoreUnderTest.available)
    func twoUpdatesFromOneRevisionConflict(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let key = RecordKey(.app, name: "todo")
            _ = try await store.create(key, body: body("0"))
            async let first = outcome { () async throws(StoreError) in
                try await store.update(key, body: body("1"), ifRevision: 1)
            }
            async let second = outcome { () async throws(StoreError) in
                try await store.update(key, body: body("2"), ifRevision: 1)
            }
            let results = await [first, second]
            let winners = results.compactMap { try? $0.get() }
            let losers = results.compactMap { result -> StoreError? in
                if case .failure(let error) = result { return error }
                return nil
            }
            #expect(winners.count == 1)
            #expect(losers.map(\.code) == [.revisionConflict])
            #expect(losers.first?.message.contains("revision 2") == true)
            #expect(try await store.record(key) == winners.first)
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func changingAMissingRecordIsNotFound(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let key = RecordKey(.deployment, scope: "todo", name: "d1")
            let update = await #expect(throws: StoreError.self) {
                _ = try await store.update(key, body: body("x"), ifRevision: 1)
            }
            #expect(update?.code == .notFound)
            let delete = await #expect(throws: StoreError.self) { try await store.delete(key, ifRevision: nil) }
            #expect(delete?.code == .notFound)
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func aDeleteHonoursTheRevision(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let key = RecordKey(.apiKey, scope: "todo/v1", name: "mobile")
            _ = try await store.create(key, body: body("k"))
            _ = try await store.update(key, body: body("k2"), ifRevision: 1)
            let stale = await #expect(throws: StoreError.self) { try await store.delete(key, ifRevision: 1) }
            #expect(stale?.code == .revisionConflict)
            #expect(try await store.record(key) != nil)
            try await store.delete(key, ifRevision: 2)
            #expect(try await store.record(key) == nil)
            // Deleted, the key is free again, and starts over at revision 1.
            #expect(try await store.create(key, body: body("k3")).revision == 1)
        }
    }

    @Test(arguments: StoreUnderTest.available)
    func listingsArePagedInNameOrderWithinTheirScope(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            let names = (1...25).map { String(format: "v%02d", $0) }.shuffled()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names {
                    group.addTask {
                        _ = try await store.create(RecordKey(.version, scope: "todo", name: name), body: body(name))
                    }
                }
                group.addTask {
                    _ = try await store.create(RecordKey(.version, scope: "shop", name: "v00"), body: body("x"))
                }
                group.addTask {
                    _ = try await store.create(RecordKey(.app, scope: "todo", name: "v00"), body: body("x"))
                }
                try await group.waitForAll()
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await store.list(.version, scope: "todo", after: cursor, limit: 10)
                #expect(page.records.count <= 10)
                #expect(
                    page.records.allSatisfy {
                        $0.key.scope == "todo" && $0.key.kind == .version && $0.body == body($0.key.name)
                    }
                )
                seen += page.records.map(\.key.name)
                cursor = page.next
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == names.sorted())
            let exact = try await store.list(.version, scope: "todo", after: "v15", limit: 10)
            #expect(exact.records.map(\.key.name) == (16...25).map { String(format: "v%02d", $0) })
            #expect(exact.next == nil)
            #expect(
                try await store.list(.version, scope: "nobody", after: nil, limit: 10)
                    == StorePage(records: [], next: nil)
            )
        }
    }

    /// Many writes at once, some of which fail, are group-committed without one failure spoiling the others.
    @Test(arguments: StoreUnderTest.available)
    func concurrentWritesSucceedOrFailEachOnTheirOwn(_ store: StoreUnderTest) async throws {
        try await store.withStore { store in
            _ = try await store.create(RecordKey(.app, name: "taken"), body: body("t"))
            let outcomes = await withTaskGroup(of: (String, StoreError.Code?).self) { group in
                for index in 0..<200 {
                    let name = index % 10 == 0 ? "taken" : "app\(index)"
                    group.addTask {
                        do {
                            _ = try await store.create(RecordKey(.app, name: name), body: body(name))
                            return (name, nil)
                        } catch {
                            return (name, (error as? StoreError)?.code)
                        }
                    }
                }
                var outcomes: [(String, StoreError.Code?)] = []
                for await outcome in group { outcomes.append(outcome) }
                return outcomes
            }
            #expect(outcomes.filter { $0.0 == "taken" }.allSatisfy { $0.1 == .duplicate })
            #expect(outcomes.filter { $0.0 != "taken" }.allSatisfy { $0.1 == nil })
            var cursor: String?
            var stored: [String] = []
            repeat {
                let page = try await store.list(.app, scope: "", after: cursor, limit: 64)
                stored += page.records.map(\.key.name)
                cursor = page.next
            } while cursor != nil
            #expect(stored.count == 181)
            #expect(try await store.record(RecordKey(.app, name: "taken"))?.body == body("t"))
        }
    }

    /// Two platform replicas, each with a store of its own on one database: what one writes the other reads, and
    /// the unique index holds across them.
    @Test(.enabled(if: StoreUnderTest.mongoURI != nil, StoreUnderTest.mongoSkipped))
    func twoPlatformReplicasShareOneMongoDB() async throws {
        let uri = try #require(StoreUnderTest.mongoURI)
        let database = "agnost_conformance_\(UUID().uuidString.prefix(8).lowercased())"
        defer { try? StoreUnderTest.drop(database, at: uri) }
        try await withMongoStore(uri: uri, database: database) { first in
            try await withMongoStore(uri: uri, database: database) { second in
                let key = RecordKey(.app, name: "todo")
                let created = try await first.create(key, body: body("1"))
                #expect(try await second.record(key) == created)
                let duplicate = await #expect(throws: StoreError.self) {
                    _ = try await second.create(key, body: body("2"))
                }
                #expect(duplicate?.code == .duplicate)
                let updated = try await second.update(key, body: body("3"), ifRevision: 1)
                #expect(try await first.record(key) == updated)
            }
        }
    }
}
