/// Bounds on integer settings.
enum IntegerRule {
    /// `value` when it lies within the bounds; `subject` names it in messages, e.g. "queue retries".
    static func check(
        _ value: Int,
        isAtLeast minimum: Int,
        atMost maximum: Int? = nil,
        subject: String
    ) throws(ValueError) -> Int {
        if let maximum, !(minimum...maximum).contains(value) {
            throw ValueError("\(subject) must be between \(minimum) and \(maximum), found \(value)")
        }
        guard value >= minimum else {
            throw ValueError("\(subject) must be at least \(minimum), found \(value)")
        }
        return value
    }
}
