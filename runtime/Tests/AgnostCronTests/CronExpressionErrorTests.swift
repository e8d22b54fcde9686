import AgnostCron
import Testing

@Suite("CronExpression errors")
struct CronExpressionErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let text: String
        let message: String
        let offset: Int
        let length: Int

        var testDescription: String { "'\(text)'" }
    }

    static let fieldsPhrase = "expected 5 fields (minute hour day-of-month month day-of-week)"
    static let macros = "@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually"

    @Test(
        arguments: [
            Case(text: "0 0 * * * *", message: "\(fieldsPhrase), found 6", offset: 10, length: 1),
            Case(text: "0 0 * * * 1 2", message: "\(fieldsPhrase), found 7", offset: 10, length: 3),
            Case(text: " 0 0 *", message: "\(fieldsPhrase), found 3", offset: 1, length: 5),
            Case(text: "", message: "\(fieldsPhrase), found 0", offset: 0, length: 1),
            Case(text: "0 25 * * *", message: "hour 25 is out of range 0-23", offset: 2, length: 2),
            Case(text: "60 * * * *", message: "minute 60 is out of range 0-59", offset: 0, length: 2),
            Case(text: "* * 0 * *", message: "day-of-month 0 is out of range 1-31", offset: 4, length: 1),
            Case(text: "* * * 13 *", message: "month 13 is out of range 1-12", offset: 6, length: 2),
            Case(text: "* * * * 8", message: "day-of-week 8 is out of range 0-7", offset: 8, length: 1),
            Case(
                text: "99999999999999999999 * * * *",
                message: "minute 99999999999999999999 is out of range 0-59",
                offset: 0,
                length: 20
            ),
            Case(text: "0 1-30/2 * * *", message: "hour 30 is out of range 0-23", offset: 4, length: 2),
            Case(
                text: "0 22-2 * * *",
                message: "hour range 22-2 is reversed; the first value must not be greater than the second",
                offset: 2,
                length: 4
            ),
            Case(
                text: "0 0 * * FRI-MON",
                message: "day-of-week range FRI-MON is reversed; the first value must not be greater than the second",
                offset: 8,
                length: 7
            ),
            Case(text: "*/0 * * * *", message: "minute step must be at least 1, found 0", offset: 2, length: 1),
            Case(
                text: "0 0 1-9/00 * *",
                message: "day-of-month step must be at least 1, found 00",
                offset: 8,
                length: 2
            ),
            Case(text: "*/ * * * *", message: "minute step is missing after '/'", offset: 1, length: 1),
            Case(text: "*/x * * * *", message: "minute step 'x' is not a number", offset: 2, length: 1),
            Case(text: "/5 * * * *", message: "minute value is missing before '/'", offset: 0, length: 1),
            Case(
                text: "1,,2 * * * *",
                message: "minute list has an empty item; remove the extra ','",
                offset: 2,
                length: 1
            ),
            Case(
                text: ",1 * * * *",
                message: "minute list has an empty item; remove the extra ','",
                offset: 0,
                length: 1
            ),
            Case(
                text: "0 1, * * *",
                message: "hour list has an empty item; remove the extra ','",
                offset: 3,
                length: 1
            ),
            Case(text: "-5 * * * *", message: "minute range is missing its start before '-'", offset: 0, length: 1),
            Case(text: "0 0 1- * *", message: "day-of-month range is missing its end after '-'", offset: 5, length: 1),
            Case(
                text: "0 0 * JANUARY *",
                message: "unknown month name 'JANUARY'; use JAN-DEC or 1-12",
                offset: 6,
                length: 7
            ),
            Case(
                text: "0 0 * * mon-thurs",
                message: "unknown day-of-week name 'thurs'; use SUN-SAT or 0-7",
                offset: 12,
                length: 5
            ),
            Case(
                text: "0 MON * * *",
                message: "invalid hour value 'MON'; expected a number 0-23",
                offset: 2,
                length: 3
            ),
            Case(
                text: "0 0 * 1x *",
                message: "invalid month value '1x'; expected a number 1-12 or a name JAN-DEC",
                offset: 6,
                length: 2
            ),
            Case(
                text: "*-5 * * * *",
                message: "invalid minute value '*'; expected a number 0-59",
                offset: 0,
                length: 1
            ),
            Case(text: "@every 5m", message: "unknown macro '@every'; use one of \(macros)", offset: 0, length: 6),
            Case(text: "@Daily", message: "unknown macro '@Daily'; use one of \(macros)", offset: 0, length: 6),
            Case(
                text: "@daily 0 12",
                message: "macro '@daily' stands alone; remove the fields after it",
                offset: 7,
                length: 4
            ),
        ]
    )
    func reportsProblemAtItsToken(_ expected: Case) {
        let error = #expect(throws: CronExpressionError.self) { try CronExpression(parsing: expected.text) }
        #expect(error?.message == expected.message)
        #expect(error?.offset == expected.offset)
        #expect(error?.length == expected.length)
    }

    @Test func offsetsCountCharactersNotBytes() {
        let error = #expect(throws: CronExpressionError.self) { try CronExpression(parsing: "é * * * *") }
        #expect(error?.message == "invalid minute value 'é'; expected a number 0-59")
        #expect(error?.offset == 0)
        #expect(error?.length == 1)
        // U+3000 IDEOGRAPHIC SPACE separates fields and is three bytes long in UTF-8.
        let afterWideSpace = #expect(throws: CronExpressionError.self) {
            try CronExpression(parsing: "0\u{3000}25 * * *")
        }
        #expect(afterWideSpace?.message == "hour 25 is out of range 0-23")
        #expect(afterWideSpace?.offset == 2)
    }

    @Test func descriptionIsTheMessage() {
        let error = #expect(throws: CronExpressionError.self) { try CronExpression(parsing: "0 24 * * *") }
        #expect(error?.description == "hour 24 is out of range 0-23")
    }
}
