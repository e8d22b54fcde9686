import Foundation
import Testing

@testable import AgnostEvents

@Suite struct EventRecordCodingTests {
    static let message = QueueMessage(
        queue: "emails",
        attributes: ["specversion": "1.0", "id": "é-1", "source": "/s", "type": "t", "agnostqueue": "emails"],
        contentType: "application/json; charset=utf-8",
        body: Array(#"{"to":"ü@example.com"}"#.utf8)
    )

    static let records: [EventRecord] = {
        var moved = message
        moved.queue = "emails-dead"
        moved.origin = DeadLetterOrigin(queue: "emails", attempts: 4, lastFailure: .status(503))
        let bare = QueueMessage(queue: "q", attributes: [:], contentType: nil, body: [])
        let when = Date(timeIntervalSinceReferenceDate: 812_345_678.123_456_7)
        return [
            .accepted(sequence: 1, message: message, attempt: 1, dueAt: when),
            .accepted(sequence: UInt64.max, message: moved, attempt: 300, dueAt: .distantFuture),
            .accepted(sequence: 0, message: bare, attempt: 1, dueAt: .distantPast),
            .failed(sequence: 2, attempt: 3, failure: .transport("connection refused: 127.0.0.1:1"), retryAt: when),
            .failed(sequence: 2, attempt: 4, failure: .status(500), retryAt: when),
            .acknowledged(sequence: 129),
            .deadLettered(sequence: 3, attempts: 5, failure: .status(500), at: when, movedTo: 17),
            .deadLettered(sequence: 3, attempts: 5, failure: .transport(""), at: when, movedTo: nil),
            .replayed(sequence: 4, dueAt: when),
        ]
    }()

    func binary(_ record: EventRecord) -> [UInt8] {
        var bytes: [UInt8] = []
        record.encode(into: &bytes)
        return bytes
    }

    @Test(arguments: records)
    func everyRecordReadsBackAsItWasWritten(_ record: EventRecord) {
        #expect(EventRecord(binary: binary(record)[...]) == record)
    }

    /// No prefix of a record, nor a record with bytes after it, reads as a record: a torn frame is never misread.
    @Test(arguments: records)
    func aCutOrOverlongRecordIsNotARecord(_ record: EventRecord) {
        let bytes = binary(record)
        for cut in 0..<bytes.count {
            #expect(EventRecord(binary: bytes.prefix(cut)) == nil, "cut after \(cut) of \(bytes.count) bytes")
        }
        #expect(EventRecord(binary: (bytes + [0])[...]) == nil)
    }

    @Test func attributesEncodeInNameOrderSoAMessageAlwaysGivesTheSameBytes() {
        var reordered: [String: String] = [:]
        for (name, value) in Self.message.attributes.sorted(by: { $0.key > $1.key }) { reordered[name] = value }
        var other = Self.message
        other.attributes = reordered
        let when = Date(timeIntervalSinceReferenceDate: 0)
        #expect(
            binary(.accepted(sequence: 1, message: other, attempt: 1, dueAt: when))
                == binary(.accepted(sequence: 1, message: Self.message, attempt: 1, dueAt: when))
        )
    }

    @Test func anUnknownTagIsNotARecord() {
        #expect(EventRecord(binary: [0, 1][...]) == nil)
        #expect(EventRecord(binary: [99, 1][...]) == nil)
    }
}
