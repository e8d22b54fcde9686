/// Values that must be one of a fixed set of words, like HTTP methods or resource types.
enum Choice {
    /// The option spelled exactly `text`; otherwise an error that suggests the closest one or lists them all.
    static func parse<Option: RawRepresentable & CaseIterable>(
        _ text: String,
        subject: String
    ) throws(ValueError) -> Option where Option.RawValue == String {
        if let option = Option(rawValue: text) {
            return option
        }
        let options = Option.allCases.map(\.rawValue)
        let hint = Suggestion.hint(for: text, among: options, otherwise: "use \(Suggestion.list(options))")
        throw ValueError("unknown \(subject) '\(text)'\(hint)")
    }
}
