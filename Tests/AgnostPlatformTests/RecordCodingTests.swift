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

    @Test(arguments: ["", "yesterday", "2027-01-15T08:00:00", "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00.x1Z"])
    func otherTextIsNotATime(_ text: String) {
        #expect(RecordCoding.parse(text) == nil)
    }
}
