/// The entries of one YAML mapping, after reporting what is wrong with its keys: keys that are not strings,
/// duplicates, keys the schema does not know, and required keys that are missing.
struct MappingReader {
    /// Where the mapping starts; missing keys are reported here.
    let location: SourceLocation
    /// The first entry for each key, in file order.
    let entries: [(key: Located<String>, value: YAMLNode)]

    init(
        _ pairs: [YAMLNode.Pair],
        at location: SourceLocation,
        schema: MappingSchema,
        diagnostics: inout DiagnosticCollector
    ) {
        var entries: [(key: Located<String>, value: YAMLNode)] = []
        // A misspelt required key is reported once, as unknown with a suggestion, not again as missing.
        var suggestedKeys: Set<String> = []
        for pair in pairs {
            guard let key = pair.key.scalar?.text else {
                diagnostics.error(
                    "keys \(schema.place) must be names, found \(pair.key.kindDescription)",
                    at: pair.key.location
                )
                continue
            }
            if let first = entries.first(where: { $0.key.value == key }) {
                diagnostics.error(
                    "duplicate key '\(key)' \(schema.place); remove one of them",
                    at: pair.key.location,
                    note: "first defined here",
                    at: first.key.location
                )
                continue
            }
            if !schema.isOpen, !schema.keys.contains(key) {
                let hint: String
                if let suggestion = Suggestion.closest(to: key, among: schema.keys) {
                    suggestedKeys.insert(suggestion)
                    hint = "did you mean '\(suggestion)'?"
                } else {
                    hint = "valid keys are \(Suggestion.list(schema.keys, conjunction: "and"))"
                }
                diagnostics.error("unknown key '\(key)' \(schema.place); \(hint)", at: pair.key.location)
                continue
            }
            entries.append((Located(key, at: pair.key.location), pair.value))
        }
        for key in schema.required
        where !suggestedKeys.contains(key) && !entries.contains(where: { $0.key.value == key }) {
            diagnostics.error("missing required key '\(key)' \(schema.place)", at: location)
        }
        self.location = location
        self.entries = entries
    }

    subscript(key: String) -> YAMLNode? {
        entries.first { $0.key.value == key }?.value
    }
}
