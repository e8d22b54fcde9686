import AgnostPlatform
import AgnostTestSupport
import Foundation
import Testing

@Suite struct SQLiteDurabilityTests {
    /// The store killed with SIGKILL in the middle of 1,000 concurrent writes, several times, keeps every write it
    /// acknowledged, and its file stays sound.
    @Test func noAcknowledgedWriteIsLostWhenTheStoreIsKilled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-store-kill-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("platform.sqlite").path
        var acknowledged: Set<String> = []
        for round in 1...4 {
            let output = try await runKilledAtRandom(
                "StoreFixture",
                [database, "1000"],
                maximumDelay: .milliseconds(150)
            )
            let names = output.acknowledged
            #expect(!names.isEmpty, "round \(round) acknowledged nothing; the fixture said: \(output.standardError)")
            #expect(output.standardError.isEmpty, "round \(round): \(output.standardError)")
            acknowledged.formUnion(names)
            try await withSQLiteStore(path: database) { store in
                #expect(try await store.integrityProblems() == [])
                var stored: Set<String> = []
                var cursor: String?
                repeat {
                    let page = try await store.list(.app, scope: "", after: cursor, limit: 500)
                    stored.formUnion(page.records.map(\.key.name))
                    cursor = page.next
                } while cursor != nil
                let lost = acknowledged.subtracting(stored)
                #expect(lost.isEmpty, "round \(round) lost \(lost.count) of \(acknowledged.count): \(lost.prefix(5))")
            }
        }
    }
}
