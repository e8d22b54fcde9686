import AgnostCron
import Foundation
import Testing

@testable import AgnostEvents

/// Expected instants follow robfig/cron v3's `SpecSchedule.Next`, walked by hand; UTC offsets checked with the
/// IANA database.
@Suite struct CronScheduleTests {
    func instant(_ text: String) -> Date {
        IngressRequest.parseTimestamp(text)!
    }

    func next(_ schedule: String, _ zone: String, after text: String) throws -> Date? {
        try CronSchedule(expression: CronExpression(parsing: schedule), timeZone: zone).next(after: instant(text))
    }

    /// The successive firings after `text`.
    func firings(_ schedule: String, _ zone: String, after text: String, count: Int) throws -> [Date] {
        let cron = try CronSchedule(expression: CronExpression(parsing: schedule), timeZone: zone)
        var result: [Date] = []
        var current = instant(text)
        for _ in 0..<count {
            guard let next = cron.next(after: current) else { break }
            result.append(next)
            current = next
        }
        return result
    }

    @Test func theNextInstantIsStrictlyAfter() throws {
        #expect(try next("* * * * *", "UTC", after: "2026-06-10T10:00:00Z") == instant("2026-06-10T10:01:00Z"))
        #expect(try next("* * * * *", "UTC", after: "2026-06-10T10:00:30.500Z") == instant("2026-06-10T10:01:00Z"))
        #expect(try next("*/20 9-17 * * *", "UTC", after: "2026-06-10T17:40:00Z") == instant("2026-06-11T09:00:00Z"))
    }

    @Test func aJobInsideTheSpringForwardGapSkipsThatDay() throws {
        // New York jumps from 02:00 EST to 03:00 EDT on 8 March 2026.
        #expect(
            try next("30 2 * * *", "America/New_York", after: "2026-03-08T05:00:00Z") == instant("2026-03-09T06:30:00Z")
        )
        #expect(
            try next("30 3 * * *", "America/New_York", after: "2026-03-08T05:00:00Z") == instant("2026-03-08T07:30:00Z")
        )
        #expect(
            try next("0 * * * *", "America/New_York", after: "2026-03-08T06:30:00Z") == instant("2026-03-08T07:00:00Z")
        )
        // Berlin jumps from 02:00 CET to 03:00 CEST on 29 March 2026.
        #expect(
            try next("30 2 * * *", "Europe/Berlin", after: "2026-03-28T23:00:00Z") == instant("2026-03-30T00:30:00Z")
        )
    }

    @Test func aJobInsideTheRepeatedHourOfFallBackFiresTwice() throws {
        // New York repeats 01:00-02:00 on 1 November 2026, first EDT (05:00Z) then EST (06:00Z).
        #expect(
            try firings("30 1 * * *", "America/New_York", after: "2026-11-01T04:00:00Z", count: 3) == [
                instant("2026-11-01T05:30:00Z"), instant("2026-11-01T06:30:00Z"), instant("2026-11-02T06:30:00Z"),
            ]
        )
        #expect(
            try firings("*/30 * * * *", "America/New_York", after: "2026-11-01T04:59:00Z", count: 5) == [
                instant("2026-11-01T05:00:00Z"), instant("2026-11-01T05:30:00Z"), instant("2026-11-01T06:00:00Z"),
                instant("2026-11-01T06:30:00Z"), instant("2026-11-01T07:00:00Z"),
            ]
        )
        // Berlin repeats 02:00-03:00 on 25 October 2026, first CEST (00:00Z) then CET (01:00Z).
        #expect(
            try firings("30 2 * * *", "Europe/Berlin", after: "2026-10-24T22:00:00Z", count: 3) == [
                instant("2026-10-25T00:30:00Z"), instant("2026-10-25T01:30:00Z"), instant("2026-10-26T01:30:00Z"),
            ]
        )
    }

    @Test func everyMacro() throws {
        let after = "2026-06-10T12:34:56Z"  // a Wednesday
        #expect(try next("@hourly", "UTC", after: after) == instant("2026-06-10T13:00:00Z"))
        #expect(try next("@daily", "UTC", after: after) == instant("2026-06-11T00:00:00Z"))
        #expect(try next("@midnight", "UTC", after: after) == instant("2026-06-11T00:00:00Z"))
        #expect(try next("@weekly", "UTC", after: after) == instant("2026-06-14T00:00:00Z"))
        #expect(try next("@monthly", "UTC", after: after) == instant("2026-07-01T00:00:00Z"))
        #expect(try next("@yearly", "UTC", after: after) == instant("2027-01-01T00:00:00Z"))
        #expect(try next("@annually", "UTC", after: after) == instant("2027-01-01T00:00:00Z"))
        #expect(try next("@daily", "Europe/Berlin", after: after) == instant("2026-06-10T22:00:00Z"))
    }

    @Test func restrictingBothDayFieldsMatchesEither() throws {
        // The 13th, or any Friday: Friday 12, Saturday 13, Friday 19 June 2026.
        #expect(
            try firings("0 0 13 * 5", "UTC", after: "2026-06-10T00:00:00Z", count: 3) == [
                instant("2026-06-12T00:00:00Z"), instant("2026-06-13T00:00:00Z"), instant("2026-06-19T00:00:00Z"),
            ]
        )
        #expect(try next("0 0 13 * *", "UTC", after: "2026-06-10T00:00:00Z") == instant("2026-06-13T00:00:00Z"))
        #expect(try next("0 0 * * 5", "UTC", after: "2026-06-12T00:00:00Z") == instant("2026-06-19T00:00:00Z"))
        // `*/1` leaves day-of-month unrestricted, as in robfig/cron, so both fields must match: Fridays only.
        #expect(try next("0 0 */1 * 5", "UTC", after: "2026-06-12T00:00:00Z") == instant("2026-06-19T00:00:00Z"))
    }

    @Test func february29thWaitsForALeapYearAndAnImpossibleDateNeverComes() throws {
        #expect(try next("0 0 29 2 *", "UTC", after: "2026-03-01T00:00:00Z") == instant("2028-02-29T00:00:00Z"))
        #expect(try next("0 0 30 2 *", "UTC", after: "2026-03-01T00:00:00Z") == nil)
    }

    @Test func anUnknownTimeZoneIsRefused() throws {
        #expect(throws: EventHubError.self) {
            try CronSchedule(expression: CronExpression(parsing: "* * * * *"), timeZone: "Mars/Olympus_Mons")
        }
    }
}
