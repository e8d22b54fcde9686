import Foundation
import Testing

@testable import AgnostPlatform

@Suite struct RecordCodingTests {
    /// Every date kept reads back equal, whatever its binary fraction: what an ETag-guarded update compares.
    @Test func aStorableDateReadsBackEqualFromItsText() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let date = RecordCoding.storable(
                Date(timeIntervalSince1970: Double.random(in: -1e9...4e9, using: &generator))
            )
            let text = RecordCoding.format(date)
            #expect(RecordCoding.parse(text) == date, "\(text)")
            #expect(RecordCoding.format(RecordCoding.storable(date)) == text)
        }
    }

    /// A record made again after a delete comes back at revision 1 with another body: what it decodes to must be
    /// that body's, never the remembered value of the first.
    @Test func aRecordIsDecodedFromTheBodyReadNotFromAnEarlierOneAtTheSameKey() throws {
        let time = RecordCoding.storable(Date(timeIntervalSince1970: 1_800_000_000))
        let first = App(name: "todo", description: "first", createdAt: time, updatedAt: time)
        let again = App(name: "todo", description: "made again", createdAt: time, updatedAt: time)
        let firstStored = StoredRecord(key: first.key, revision: 1, body: try RecordCoding.encode(first))
        let againStored = StoredRecord(key: again.key, revision: 1, body: try RecordCoding.encode(again))
        let decodedFirst: Revisioned<App> = try RecordCoding.decode(firstStored)
        let decodedAgain: Revisioned<App> = try RecordCoding.decode(againStored)
        let decodedFirstAgain: Revisioned<App> = try RecordCoding.decode(firstStored)
        #expect(decodedFirst.value == first)
        #expect(decodedAgain.value == again)
        #expect(decodedFirstAgain.value == first)
    }

    @Test func decodedRecordsAreRememberedOnlyForTheirOwnBodyAndWithinTheirBudget() throws {
        let memory = DecodedRecords(byteBudget: 64 * 16)
        let key = RecordKey(.app, name: "todo")
        let stored = StoredRecord(key: key, revision: 3, body: Array(#"{"a":1}"#.utf8))
        memory.remember("one", of: stored)
        #expect(memory.value(of: stored, as: String.self) == "one")
        #expect(memory.value(of: stored, as: Int.self) == nil, "a value of another type is not this record's")
        var changed = stored
        changed.body = Array(#"{"a":2}"#.utf8)
        #expect(memory.value(of: changed, as: String.self) == nil)
        let large = StoredRecord(
            key: RecordKey(.app, name: "large"),
            revision: 1,
            body: Array(repeating: 32, count: 65)
        )
        memory.remember("large", of: large)
        #expect(memory.value(of: large, as: String.self) == nil, "a body over a sixteenth of the budget is not kept")
        for index in 0..<20 {
            let filler = StoredRecord(
                key: RecordKey(.app, name: "app\(index)"),
                revision: 1,
                body: Array(repeating: 32, count: 60)
            )
            memory.remember(index, of: filler)
        }
        #expect(memory.value(of: stored, as: String.self) == nil, "past the budget, the memory starts again")
    }

    @Test func timesAreWrittenInUTCToTheMillisecond() {
        #expect(RecordCoding.format(Date(timeIntervalSince1970: 1_800_000_000.0125)) == "2027-01-15T08:00:00.013Z")
        #expect(RecordCoding.format(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
    }

    @Test(arguments: [
        ("2027-01-15T08:00:00Z", 1_800_000_000.0),
        ("2027-01-15T08:00:00.5Z", 1_800_000_000.5),
        ("2027-01-15T08:00:00.25Z", 1_800_000_000.25),
        ("2027-01-15T08:00:00.123456Z", 1_800_000_000.123),
    ])
    func fractionsOfAnyLengthAreReadToTheMillisecond(_ text: String, _ seconds: Double) {
        #expect(RecordCoding.parse(text) == RecordCoding.storable(Date(timeIntervalSince1970: seconds)))
    }

    /// The hand-written calendar agrees with Foundation's on every day of four centuries and more, leap days too.
    @Test func theCalendarIsFoundationsToTheSecond() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let date = Date(
                timeIntervalSince1970: Double(Int.random(in: -2_208_988_800...7_258_118_399, using: &generator))
            )
            let text = RecordCoding.format(date)
            #expect(text == date.formatted(.iso8601).dropLast() + ".000Z")
            #expect(RecordCoding.parse(text) == date)
        }
        #expect(RecordCoding.parse("2028-02-29T00:00:00Z") != nil)
    }

    @Test(arguments: [
        "", "yesterday", "2027-01-15T08:00:00", "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00.x1Z",
        "2027-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2027-13-01T00:00:00Z", "2027-04-31T00:00:00Z",
        "2027-01-15T24:00:00Z", "2027-01-15T08:60:00Z", "2027-01-15 08:00:00Z", "+027-01-15T08:00:00Z",
    ])
    func otherTextIsNotATime(_ text: String) {
        #expect(RecordCoding.parse(text) == nil)
    }
}
