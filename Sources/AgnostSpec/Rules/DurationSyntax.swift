/// Durations as agnost.yaml writes them: a whole number and a unit, like `500ms`, `5s`, `2m` or `1h`.
///
/// ```swift
/// DurationSyntax.positive("90s")  // .seconds(90)
/// ```
public enum DurationSyntax {
    private static let units: [(suffix: String, unit: Duration)] = [
        ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)),
    ]

    /// Larger counts are surely mistakes, and smaller ones cannot overflow Duration in any unit.
    private static let largestCount = 1_000_000_000

    /// Parses `text`; `subject` names the value in messages, e.g. "endpoint timeout".
    static func parse(_ text: String, subject: String) throws(ValueError) -> Duration {
        let digits = text.prefix { $0.isASCIIDigit }
        let suffix = text[digits.endIndex...]
        guard !digits.isEmpty, let unit = units.first(where: { $0.suffix == suffix })?.unit else {
            throw ValueError(
                "\(subject) '\(text)' is not a duration; write a whole number followed by ms, s, m or h, "
                    + "like 500ms, 5s, 2m or 1h"
            )
        }
        guard let count = Int(digits), count <= largestCount else {
            throw ValueError("\(subject) '\(text)' is too large")
        }
        return unit * count
    }

    /// A positive duration in this syntax, or nil; for command-line options, which report their own error.
    public static func positive(_ text: String) -> Duration? {
        try? parsePositive(text, subject: "duration")
    }

    /// Like ``parse(_:subject:)``, rejecting zero.
    static func parsePositive(_ text: String, subject: String) throws(ValueError) -> Duration {
        let duration = try parse(text, subject: subject)
        guard duration > .zero else {
            throw ValueError("\(subject) must be greater than 0, found '\(text)'")
        }
        return duration
    }

    /// The duration in the largest unit that writes it exactly: 90s is "90s", 120s is "2m".
    static func format(_ duration: Duration) -> String {
        let milliseconds = duration / .milliseconds(1)
        for (suffix, unit) in units.reversed() {
            let size = unit / .milliseconds(1)
            if milliseconds.truncatingRemainder(dividingBy: size) == 0 {
                return "\(Int(milliseconds / size))\(suffix)"
            }
        }
        return "\(duration)"
    }
}
