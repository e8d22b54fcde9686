import AgnostPlatform
import AgnostTestSupport
import Foundation
import Synchronization
import Testing

@Suite struct SQLiteDurabilityTests {
    /// The store killed with SIGKILL in the middle of 1,000 concurrent writes, several times, keeps every write it
    /// acknowledged, and its file stays sound.
    @Test func noAcknowledgedWriteIsLostWhenTheStoreIsKilled() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-store-kill-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("platform.sqlite").path
        let fixture = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("StoreFixture")
        var acknowledged: Set<String> = []
        for round in 1...4 {
            let process = Process()
            process.executableURL = fixture
            process.arguments = [database, "1000"]
            let output = Pipe()
            let errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            let deadline = ProcessDeadline(process, after: .seconds(60))
            let collected = Mutex(Data())
            let reader = Thread {
                while case let chunk = output.fileHandleForReading.availableData, !chunk.isEmpty {
                    collected.withLock { $0.append(chunk) }
                }
            }
            reader.start()
            // The random moment counts from the first acknowledgement, however slowly the child started.
            let started = ContinuousClock.now
            while collected.withLock({ $0.isEmpty }) && process.isRunning
                && ContinuousClock.now - started < .seconds(60)
            {
                try await Task.sleep(for: .milliseconds(2))
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            deadline.cancel()
            while !reader.isFinished { try await Task.sleep(for: .milliseconds(5)) }
            let text = String(decoding: collected.withLock { $0 }, as: UTF8.self)
            // Only whole lines count: the last one may have been cut by the kill.
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let names = lines.compactMap { $0.hasPrefix("ok ") ? String($0.dropFirst(3)) : nil }
            let complaint = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(!names.isEmpty, "round \(round) acknowledged nothing; the fixture said: \(complaint)")
            #expect(complaint.isEmpty, "round \(round): \(complaint)")
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
