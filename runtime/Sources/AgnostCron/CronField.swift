/// The set of values one field of a ``CronExpression`` allows, stored as a bitset.
///
/// ```swift
/// let schedule = try CronExpression(parsing: "*/15 9-17 * * MON-FRI")
/// schedule.minutes.values          // [0, 15, 30, 45]
/// schedule.daysOfWeek.contains(0)  // false: Sunday is not allowed
/// ```
public struct CronField: Sendable, Hashable {
    /// Bit `n` is set when value `n` is allowed; cron values never exceed 59, so 64 bits suffice.
    private var bits: UInt64 = 0

    init() {}

    /// Whether the field allows `value`.
    public func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    /// The allowed values in ascending order.
    public var values: [Int] {
        (0..<64).filter(contains)
    }

    mutating func insert(_ value: Int) {
        bits |= 1 << UInt64(value)
    }

    mutating func formUnion(_ other: CronField) {
        bits |= other.bits
    }
}
