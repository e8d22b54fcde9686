/// What one of the five positions of a cron schedule accepts.
struct CronFieldKind: Sendable {
    /// The name used in error messages, e.g. "day-of-month".
    let name: String
    /// The values that may be written.
    let accepted: ClosedRange<Int>
    /// The values `*` stands for, and where an open-ended `a/n` stops.
    let all: ClosedRange<Int>
    /// Three-letter names, the first one standing for `accepted.lowerBound`.
    var names: [String] = []
    /// Second spellings of a value, mapped to the value the field stores.
    var aliases: [Int: Int] = [:]

    static let minute = CronFieldKind(name: "minute", accepted: 0...59, all: 0...59)
    static let hour = CronFieldKind(name: "hour", accepted: 0...23, all: 0...23)
    static let dayOfMonth = CronFieldKind(name: "day-of-month", accepted: 1...31, all: 1...31)
    static let month = CronFieldKind(
        name: "month",
        accepted: 1...12,
        all: 1...12,
        names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
    /// 7 is accepted as a second spelling of Sunday (as most crons do) but `*` means 0-6.
    static let dayOfWeek = CronFieldKind(
        name: "day-of-week",
        accepted: 0...7,
        all: 0...6,
        names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
        aliases: [7: 0]
    )

    /// The fields of a schedule, in the order they are written.
    static let ordered: [CronFieldKind] = [.minute, .hour, .dayOfMonth, .month, .dayOfWeek]

    var rangeText: String { "\(accepted.lowerBound)-\(accepted.upperBound)" }

    /// Folds the alternative spellings of a value into the one the field stores.
    func normalized(_ value: Int) -> Int {
        aliases[value] ?? value
    }

    /// The value `token` stands for: a number, or one of the field's names (case-insensitive).
    func value(of token: CronToken) throws(CronExpressionError) -> Int {
        let text = token.text
        if !text.isEmpty, text.allSatisfy({ ("0"..."9").contains($0) }) {
            // Saturate so absurdly long numbers are reported as out of range instead of overflowing.
            let number = text.reduce(0) { min($0 * 10 + $1.wholeNumberValue!, 1_000_000) }
            guard accepted.contains(number) else {
                throw token.error("\(name) \(text) is out of range \(rangeText)")
            }
            return number
        }
        guard let firstName = names.first, let lastName = names.last else {
            throw token.error("invalid \(name) value '\(text)'; expected a number \(rangeText)")
        }
        guard text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw token.error(
                "invalid \(name) value '\(text)'; expected a number \(rangeText) or a name \(firstName)-\(lastName)"
            )
        }
        guard let index = names.firstIndex(of: text.uppercased()) else {
            throw token.error("unknown \(name) name '\(text)'; use \(firstName)-\(lastName) or \(rangeText)")
        }
        return accepted.lowerBound + index
    }
}
