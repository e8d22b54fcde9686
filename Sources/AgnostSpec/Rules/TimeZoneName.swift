import Foundation

/// The rule for cron jobs' `timezone:` values.
enum TimeZoneName {
    /// IANA identifiers Foundation knows, plus "UTC", which some platforms only list as "Etc/UTC".
    private static let known: [String] = TimeZone.knownTimeZoneIdentifiers + ["UTC"]
    private static let knownSet = Set(known)

    static func validate(_ text: String) throws(ValueError) -> String {
        guard knownSet.contains(text) else {
            let hint = Suggestion.hint(
                for: text,
                among: known,
                otherwise: "use an IANA time zone name like 'Europe/Istanbul' or 'UTC'"
            )
            throw ValueError("unknown time zone '\(text)'\(hint)")
        }
        return text
    }
}
