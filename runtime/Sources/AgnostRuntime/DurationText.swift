/// Durations as `agnost.yaml` writes them: a whole number and a unit, `500ms`, `5s`, `2m` or `1h`.
///
/// The runtime reads its own time limits from the environment in the same syntax, so one spelling works
/// everywhere a user writes a duration.
enum DurationText {
    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
    ]

    /// Larger counts are surely mistakes, and smaller ones cannot overflow `Duration` in any unit.
    private static let largestCount: Int64 = 1_000_000_000

    /// The duration `text` spells, or `nil` if it is not a whole number followed by a known unit.
    static func parse(_ text: String) -> Duration? {
        let digits = text.utf8.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        let suffix = Substring(text.utf8[digits.endIndex...])
        guard !digits.isEmpty, let unit = units.first(where: { $0.suffix == suffix }),
            let count = Int64(Substring(digits)), count <= largestCount
        else { return nil }
        return .milliseconds(count * unit.milliseconds)
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
