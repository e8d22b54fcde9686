/// The `@name` shorthands a schedule may use instead of five fields.
enum CronMacro {
    /// Each macro and the five fields it stands for, in the order error messages list them.
    static let expansions: [(name: String, fields: String)] = [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
    ]

    /// The five fields `words` stand for, when the first word is a macro.
    static func fields(of words: [CronToken]) throws(CronExpressionError) -> [CronToken] {
        let macro = words[0]
        guard let expansion = expansions.first(where: { $0.name == macro.text }) else {
            let accepted = expansions.map(\.name).joined(separator: ", ")
            throw macro.error("unknown macro '\(macro.text)'; use one of \(accepted)")
        }
        if let extra = words.dropFirst().first, let last = words.last {
            throw CronExpressionError(
                "macro '\(macro.text)' stands alone; remove the fields after it",
                offset: extra.offset,
                length: last.offset + last.length - extra.offset
            )
        }
        return CronToken.words(in: Array(expansion.fields))
    }
}
