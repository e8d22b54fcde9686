import AgnostCron
import Foundation

/// When a cron job fires, computed as robfig/cron v3 (the scheduler of Knative's PingSource) does, so that a job
/// fires at the same instants locally as on a cluster.
///
/// Like robfig/cron it walks the wall clock of the job's time zone field by field, adding hours and minutes as
/// elapsed time: a time inside a spring-forward gap never fires that day, a time inside the repeated hour of a
/// fall-back fires twice, and when both day fields are restricted, either one matching is enough.
///
/// ```swift
/// let schedule = try CronSchedule(expression: CronExpression(parsing: "30 2 * * *"), timeZone: "Europe/Berlin")
/// schedule.next(after: Date())   // the next 02:30 in Berlin
/// ```
public struct CronSchedule: Sendable, Hashable {
    public let expression: CronExpression
    public let timeZone: TimeZone

    /// The schedule of `expression` in the IANA zone `timeZone`; throws when the zone is unknown.
    public init(expression: CronExpression, timeZone identifier: String) throws(EventHubError) {
        guard let timeZone = TimeZone(identifier: identifier) else {
            throw EventHubError(.invalidSchedule, "unknown time zone '\(identifier)'", context: identifier)
        }
        self.expression = expression
        self.timeZone = timeZone
    }

    /// The first firing strictly after `instant`, or nil when none comes within five years (`0 0 30 2 *`).
    public func next(after instant: Date) -> Date? {
        // The upcoming whole second, as robfig/cron starts.
        var time = (instant.timeIntervalSince1970 + 1).rounded(.down)
        var added = false
        let yearLimit = wall(time).year + 5
        wrap: while true {
            if wall(time).year > yearLimit { return nil }
            while !expression.months.contains(wall(time).month) {
                let now = wall(time)
                if !added {
                    added = true
                    time = date(now.year, now.month, 1, 0, 0)
                }
                let start = wall(time)
                time = date(start.year, start.month + 1, start.day, start.hour, start.minute)
                if wall(time).month == 1 { continue wrap }
            }
            while !dayMatches(wall(time)) {
                let now = wall(time)
                if !added {
                    added = true
                    time = date(now.year, now.month, now.day, 0, 0)
                }
                let start = wall(time)
                time = date(start.year, start.month, start.day + 1, start.hour, start.minute)
                // Where midnight does not exist, adding a day lands beside it: back to the hour that starts the day.
                let hour = wall(time).hour
                if hour != 0 { time += TimeInterval(hour > 12 ? (24 - hour) * 3600 : -hour * 3600) }
                if wall(time).day == 1 { continue wrap }
            }
            while !expression.hours.contains(wall(time).hour) {
                if !added {
                    added = true
                    let now = wall(time)
                    time = date(now.year, now.month, now.day, now.hour, 0)
                }
                time += 3600
                if wall(time).hour == 0 { continue wrap }
            }
            while !expression.minutes.contains(wall(time).minute) {
                if !added {
                    added = true
                    time = (time / 60).rounded(.down) * 60
                }
                time += 60
                if wall(time).minute == 0 { continue wrap }
            }
            // Five-field schedules fire at second 0: counting seconds up to it ends in robfig/cron's wrap-around.
            if wall(time).second != 0 {
                added = true
                time = (time / 60).rounded(.down) * 60 + 60
                continue wrap
            }
            return Date(timeIntervalSince1970: time)
        }
    }

    private func dayMatches(_ wall: Wall) -> Bool {
        let dayOfMonth = expression.daysOfMonth.contains(wall.day)
        let dayOfWeek = expression.daysOfWeek.contains(wall.weekday)
        if expression.daysOfMonthRestricted && expression.daysOfWeekRestricted { return dayOfMonth || dayOfWeek }
        return dayOfMonth && dayOfWeek
    }

    /// A wall-clock reading in the schedule's zone.
    private struct Wall {
        var year, month, day, hour, minute, second, weekday: Int
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    private func wall(_ time: TimeInterval) -> Wall {
        let instant = Date(timeIntervalSince1970: time)
        let local = instant.addingTimeInterval(TimeInterval(timeZone.secondsFromGMT(for: instant)))
        let parts = Self.utcCalendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .weekday],
            from: local
        )
        return Wall(
            year: parts.year!,
            month: parts.month!,
            day: parts.day!,
            hour: parts.hour!,
            minute: parts.minute!,
            second: parts.second!,
            weekday: parts.weekday! - 1
        )
    }

    /// The instant of a wall-clock time, normalising out-of-range fields (month 13, day 32) as Go's `time.Date`,
    /// and resolving a time that a DST change skips or repeats the way Go does, since robfig/cron relies on it: the
    /// offset in force at that reading taken as UTC, corrected once if the result falls outside it.
    private func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int) -> TimeInterval {
        let parts = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        let asUTC = Self.utcCalendar.date(from: parts)!.timeIntervalSince1970
        let guess = TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC)))
        let corrected = TimeInterval(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: asUTC - guess)))
        return asUTC - corrected
    }
}
