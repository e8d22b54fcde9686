import AgnostTestSupport
import Foundation
import Testing

@testable import AgnostEvents

extension EventLog {
    /// Opens the log in `directory`, runs `body` with it and its records, then closes it, so that the lock is free
    /// for the next open at once (a log only dropped lets go of it whenever its last reference does).
    static func withOpened<T>(directory: URL, _ body: (EventLog, [EventRecord]) throws -> T) throws -> T {
        let (log, records) = try open(directory: directory)
        defer { log.close() }
        return try body(log, records)
    }

    /// The records of the log in `directory`, which is closed again.
    static func records(in directory: URL) throws -> [EventRecord] {
        try withOpened(directory: directory) { _, records in records }
    }
}

@Suite struct EventLogTests {
    /// A fresh directory, removed after `body`.
    func withDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agnost-events-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    func record(_ sequence: UInt64, bodySize: Int = 10) -> EventRecord {
        .accepted(
            sequence: sequence,
            message: QueueMessage(
                queue: "jobs",
                attributes: ["specversion": "1.0", "id": "m\(sequence)", "source": "/s", "type": "t"],
                contentType: "text/plain",
                body: Array(repeating: 0x61, count: bodySize)
            ),
            attempt: 1,
            dueAt: Date(timeIntervalSince1970: 1_800_000_000)
        )
    }

    func logFile(_ directory: URL) -> URL { directory.appendingPathComponent(EventLog.fileName) }

    @Test func recordsSurviveReopening() async throws {
        try await withDirectory { directory in
            let written = (1...50).map { record(UInt64($0)) } + [.acknowledged(sequence: 3)]
            try EventLog.withOpened(directory: directory) { log, records in
                #expect(records.isEmpty)
                // Staged one by one, as concurrent senders' records are, and committed with one sync.
                for record in written { log.stage([record]) }
                try log.commit()
                #expect(log.syncs == 1)
                #expect(!log.hasStaged)
            }
            let records = try EventLog.records(in: directory)
            #expect(Set(records) == Set(written))
        }
    }

    @Test func aTornTailIsCutOnOpen() async throws {
        try await withDirectory { directory in
            try EventLog.withOpened(directory: directory) { log, _ in
                try log.append([record(1), record(2)])
            }
            let whole = try Data(contentsOf: logFile(directory))
            let third = EventLog.encode([record(3)])
            // Every cut inside the third frame, header and payload, loses it and nothing before it.
            for cut in [1, 4, 7, 8, third.count / 2, third.count - 1] {
                try (whole + third.prefix(cut)).write(to: logFile(directory))
                let records = try EventLog.records(in: directory)
                #expect(records == [record(1), record(2)], "cut after \(cut) bytes")
                #expect(try Data(contentsOf: logFile(directory)) == whole, "cut after \(cut) bytes")
            }
        }
    }

    @Test func aGarbageOrCorruptTailIsCutAndAppendsContinueAfterIt() async throws {
        try await withDirectory { directory in
            try EventLog.withOpened(directory: directory) { log, _ in
                try log.append([record(1)])
            }
            let whole = try Data(contentsOf: logFile(directory))
            var flipped = Array(EventLog.encode([record(2)]))
            flipped[flipped.count - 3] ^= 0x40
            for tail in [Data(repeating: 0, count: 300), Data((0..<97).map { UInt8($0 * 37 % 256) }), Data(flipped)] {
                try (whole + tail).write(to: logFile(directory))
                try EventLog.withOpened(directory: directory) { log, records in
                    #expect(records == [record(1)])
                    try log.append([record(5)])
                }
                let reopened = try EventLog.records(in: directory)
                #expect(reopened == [record(1), record(5)])
                try whole.write(to: logFile(directory))
            }
        }
    }

    /// Acknowledgements alone are written at once and synced with the next append that needs it, which finds them.
    @Test func acknowledgementsAloneAreWrittenWithoutASync() async throws {
        try await withDirectory { directory in
            try EventLog.withOpened(directory: directory) { log, _ in
                try log.append([record(1)])
                let afterAccepting = log.syncs
                #expect(afterAccepting == 1)
                try log.append([.acknowledged(sequence: 1)])
                #expect(log.syncs == afterAccepting)
                let written = EventLog.decode(Array(try Data(contentsOf: logFile(directory)))).records
                #expect(written == [record(1), .acknowledged(sequence: 1)])
                try log.append([.acknowledged(sequence: 1), record(2)])
                #expect(log.syncs == afterAccepting + 1)
            }
        }
    }

    /// A log written before records were binary, its payloads JSON, is read whole and rewritten in the binary form.
    @Test func aLogOfJSONRecordsIsReadAndRewrittenAsBinary() async throws {
        try await withDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let written = EventRecordCodingTests.records
            var contents = EventLog.jsonMagic
            for record in written {
                let payload = Array(try JSONEncoder().encode(record))
                for value in [UInt32(payload.count), EventLog.crc(payload[...])] {
                    contents += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
                }
                contents += payload
            }
            try Data(contents).write(to: logFile(directory))
            try EventLog.withOpened(directory: directory) { log, records in
                #expect(records == written)
                try log.append([record(50)])
            }
            let rewritten = Array(try Data(contentsOf: logFile(directory)))
            #expect(rewritten.starts(with: EventLog.magic))
            #expect(EventLog.decode(rewritten).records == written + [record(50)])
        }
    }

    @Test func aHeaderTornWhileFirstWrittenStartsEmpty() async throws {
        try await withDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data("AGN".utf8).write(to: logFile(directory))
            try EventLog.withOpened(directory: directory) { log, records in
                #expect(records.isEmpty)
                try log.append([record(1)])
            }
            #expect(try EventLog.records(in: directory) == [record(1)])
        }
    }

    @Test func compactionKeepsJustTheGivenRecordsAndLaterAppends() async throws {
        try await withDirectory { directory in
            try EventLog.withOpened(directory: directory) { log, _ in
                try log.append((1...200).map { record(UInt64($0), bodySize: 1000) })
                let before = try FileManager.default.attributesOfItem(atPath: log.path)[.size] as! Int
                log.stage([record(250)])
                // What was staged is committed first, then the file holds just the records given.
                try log.replace(with: [record(7)])
                log.stage([record(300)])
                try log.append([record(301)])
                let after = try FileManager.default.attributesOfItem(atPath: log.path)[.size] as! Int
                #expect(after < before / 50)
            }
            let records = try EventLog.records(in: directory)
            #expect(records == [record(7), record(300), record(301)])
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
            #expect(leftovers == [EventLog.lockFileName, EventLog.fileName])
        }
    }

    /// A writer killed with SIGKILL at random moments, several times, never loses a message it was told is on disk.
    @Test func noAcknowledgedAppendIsLostWhenTheWriterIsKilled() async throws {
        try await withDirectory { directory in
            var acknowledged: Set<String> = []
            for round in 1...6 {
                let output = try await runKilledAtRandom(
                    "EventsFixture",
                    [directory.path],
                    maximumDelay: .milliseconds(400)
                )
                let ids = output.acknowledged
                #expect(!ids.isEmpty, "round \(round) acknowledged nothing; the writer said: \(output.standardError)")
                acknowledged.formUnion(ids)
                let records = try EventLog.records(in: directory)
                var stored: Set<String> = []
                for case .accepted(_, let message, _, _) in records { stored.insert(message.id) }
                let lost = acknowledged.subtracting(stored)
                #expect(lost.isEmpty, "round \(round) lost \(lost.count) of \(acknowledged.count): \(lost.prefix(5))")
            }
        }
    }
}
