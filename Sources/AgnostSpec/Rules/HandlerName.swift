/// The rule for `handler:` values.
enum HandlerName {
    /// Accepts `function` or `Module.function`, each part a Swift identifier that is not a keyword.
    ///
    /// The text is pasted into generated Swift code, so this is also what keeps anything but a plain reference
    /// to a function out of it.
    static func validate(_ text: String) throws(ValueError) -> String {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy(SwiftIdentifier.isValid) else {
            throw ValueError(
                "handler '\(text)' is not a Swift function name; write an identifier like 'getTodo', "
                    + "optionally qualified by its module like 'TodoHandlers.getTodo'"
            )
        }
        if let keyword = parts.first(where: { SwiftIdentifier.reservedWords.contains(String($0)) }) {
            throw ValueError("handler '\(text)' uses the reserved Swift word '\(keyword)'; rename the function")
        }
        return text
    }
}
