/// A parsed 5-field cron schedule (minute hour day-of-month month day-of-week) or `@macro`.
///
/// ```swift
/// let schedule = try CronExpression(parsing: "*/20 9-17 * JAN-MAR mon-fri")
/// schedule.minutes.values      // [0, 20, 40]
/// schedule.daysOfWeek.values   // [1, 2, 3, 4, 5]
/// try CronExpression(parsing: "@daily").hours.values  // [0]
/// ```
///
/// Accepted syntax: `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (from `a` to the end of the field),
/// comma-separated lists of those, month names `JAN`–`DEC` and weekday names `SUN`–`SAT` (case-insensitive, also
/// inside ranges), and the macros `@hourly @daily @midnight @weekly @monthly @yearly @annually`.
/// Day-of-week 7 is accepted as Sunday and stored as 0.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The schedule as written.
    public let text: String
    /// Allowed minutes, 0-59.
    public let minutes: CronField
    /// Allowed hours, 0-23.
    public let hours: CronField
    /// Allowed days of the month, 1-31.
    public let daysOfMonth: CronField
    /// Allowed months, 1-12.
    public let months: CronField
    /// Allowed days of the week, 0-6, Sunday = 0.
    public let daysOfWeek: CronField
    /// False when the day-of-month field is `*`: a schedule that restricts both day fields runs when either matches.
    public let daysOfMonthRestricted: Bool
    /// False when the day-of-week field is `*`: a schedule that restricts both day fields runs when either matches.
    public let daysOfWeekRestricted: Bool

    /// Parses `text`, throwing an error that points at the offending token.
    ///
    /// ```swift
    /// try CronExpression(parsing: "0 25 * * *")  // throws "hour 25 is out of range 0-23" at offset 2
    /// ```
    public init(parsing text: String) throws(CronExpressionError) {
        let characters = Array(text)
        let words = CronToken.words(in: characters)
        let fieldTokens: [CronToken]
        if let first = words.first, first.characters.first == "@" {
            fieldTokens = try CronMacro.fields(of: words)
        } else {
            try Self.checkFieldCount(of: words, in: characters)
            fieldTokens = words
        }
        var parsed: [(field: CronField, isUnrestricted: Bool)] = []
        for (kind, token) in zip(CronFieldKind.ordered, fieldTokens) {
            parsed.append(try CronFieldParser(kind: kind).parse(token))
        }
        self.text = text
        minutes = parsed[0].field
        hours = parsed[1].field
        daysOfMonth = parsed[2].field
        months = parsed[3].field
        daysOfWeek = parsed[4].field
        daysOfMonthRestricted = !parsed[2].isUnrestricted
        daysOfWeekRestricted = !parsed[4].isUnrestricted
    }

    public var description: String { text }

    /// Too many fields underlines the extra ones; too few underlines the whole schedule.
    private static func checkFieldCount(
        of words: [CronToken],
        in characters: [Character]
    ) throws(CronExpressionError) {
        let expected = CronFieldKind.ordered.count
        guard words.count != expected else { return }
        let underlined = words.count > expected ? words[expected...] : words[...]
        let start = underlined.first?.offset ?? 0
        let end = underlined.last.map { $0.offset + $0.length } ?? characters.count
        throw CronExpressionError(
            "expected \(expected) fields (minute hour day-of-month month day-of-week), found \(words.count)",
            offset: start,
            length: end - start
        )
    }
}
