import AgnostCron
import Testing

@Suite("CronExpression parsing")
struct CronExpressionParsingTests {
    @Test func starCoversEveryValueAndLeavesDaysUnrestricted() throws {
        let schedule = try CronExpression(parsing: "* * * * *")
        #expect(schedule.minutes.values == Array(0...59))
        #expect(schedule.hours.values == Array(0...23))
        #expect(schedule.daysOfMonth.values == Array(1...31))
        #expect(schedule.months.values == Array(1...12))
        #expect(schedule.daysOfWeek.values == Array(0...6))
        #expect(!schedule.daysOfMonthRestricted)
        #expect(!schedule.daysOfWeekRestricted)
    }

    @Test func numbersRangesStepsAndLists() throws {
        let schedule = try CronExpression(parsing: "*/15 9-17/4 1,15,28-31 2/5 1-5")
        #expect(schedule.minutes.values == [0, 15, 30, 45])
        #expect(schedule.hours.values == [9, 13, 17])
        #expect(schedule.daysOfMonth.values == [1, 15, 28, 29, 30, 31])
        #expect(schedule.months.values == [2, 7, 12])
        #expect(schedule.daysOfWeek.values == [1, 2, 3, 4, 5])
        #expect(schedule.daysOfMonthRestricted)
        #expect(schedule.daysOfWeekRestricted)
    }

    @Test func keepsTextAsWrittenAndToleratesExtraWhitespace() throws {
        let text = "  0\t12  * *   * "
        let schedule = try CronExpression(parsing: text)
        #expect(schedule.text == text)
        #expect(schedule.description == text)
        #expect(schedule.minutes.values == [0])
        #expect(schedule.hours.values == [12])
    }

    @Test func namesAreCaseInsensitiveAndWorkInsideRanges() throws {
        let schedule = try CronExpression(parsing: "0 0 * jan-Mar,DEC mon-FRI,sun")
        #expect(schedule.months.values == [1, 2, 3, 12])
        #expect(schedule.daysOfWeek.values == [0, 1, 2, 3, 4, 5])
    }

    @Test func sevenIsSunday() throws {
        #expect(try CronExpression(parsing: "0 0 * * 7").daysOfWeek.values == [0])
        #expect(try CronExpression(parsing: "0 0 * * 5-7").daysOfWeek.values == [0, 5, 6])
    }

    @Test func openEndedStepRunsToTheEndOfTheField() throws {
        #expect(try CronExpression(parsing: "50/3 * * * *").minutes.values == [50, 53, 56, 59])
        #expect(try CronExpression(parsing: "0 0 * * MON/2").daysOfWeek.values == [1, 3, 5])
    }

    @Test func stepLargerThanTheFieldSelectsOnlyTheStart() throws {
        #expect(try CronExpression(parsing: "*/90 * * * *").minutes.values == [0])
    }

    @Test func starWithStepOneIsUnrestrictedButOtherStepsAreNot() throws {
        let stepOne = try CronExpression(parsing: "0 0 */1 * *")
        #expect(!stepOne.daysOfMonthRestricted)
        let stepTwo = try CronExpression(parsing: "0 0 */2 * 1,*")
        #expect(stepTwo.daysOfMonthRestricted)
        #expect(!stepTwo.daysOfWeekRestricted)
    }

    @Test func fieldContainsOnlyItsValues() throws {
        let schedule = try CronExpression(parsing: "* * * * *")
        #expect(schedule.minutes.contains(59))
        #expect(!schedule.minutes.contains(60))
        #expect(!schedule.minutes.contains(-1))
        #expect(!schedule.minutes.contains(64))
    }

    @Test(
        arguments: [
            ("@hourly", "0 * * * *"),
            ("@daily", "0 0 * * *"),
            ("@midnight", "0 0 * * *"),
            ("@weekly", "0 0 * * 0"),
            ("@monthly", "0 0 1 * *"),
            ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 1 *"),
        ]
    )
    func macroExpandsToItsFields(macro: String, fields: String) throws {
        let expanded = try CronExpression(parsing: macro)
        let written = try CronExpression(parsing: fields)
        #expect(expanded.text == macro)
        #expect(expanded.minutes == written.minutes)
        #expect(expanded.hours == written.hours)
        #expect(expanded.daysOfMonth == written.daysOfMonth)
        #expect(expanded.months == written.months)
        #expect(expanded.daysOfWeek == written.daysOfWeek)
        #expect(expanded.daysOfMonthRestricted == written.daysOfMonthRestricted)
        #expect(expanded.daysOfWeekRestricted == written.daysOfWeekRestricted)
    }

    @Test func macroFieldsHaveTheExpectedValues() throws {
        let weekly = try CronExpression(parsing: "@weekly")
        #expect(weekly.minutes.values == [0])
        #expect(weekly.hours.values == [0])
        #expect(weekly.daysOfWeek.values == [0])
        #expect(weekly.daysOfWeekRestricted)
        #expect(!weekly.daysOfMonthRestricted)
        let yearly = try CronExpression(parsing: "@yearly")
        #expect(yearly.daysOfMonth.values == [1])
        #expect(yearly.months.values == [1])
    }
}
