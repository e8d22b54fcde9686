/// The ASCII subset of Swift identifiers that agnost.yaml accepts wherever a name becomes Swift source.
enum SwiftIdentifier {
    /// `[A-Za-z_][A-Za-z0-9_]*`
    static func isValid(_ text: some StringProtocol) -> Bool {
        guard let first = text.first, first.isASCIILetter || first == "_" else { return false }
        return text.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }

    /// Words that cannot name a function in generated code: Swift's reserved keywords, plus the member names
    /// that mean something else after a dot (`X.Type`, `X.self`, `X.init`).
    static let reservedWords: Set<String> = [
        "_", "Any", "Protocol", "Self", "Type", "as", "associatedtype", "await", "break", "case", "catch", "class",
        "continue", "default", "defer", "deinit", "do", "else", "enum", "extension", "fallthrough", "false",
        "fileprivate", "for", "func", "guard", "if", "import", "in", "init", "inout", "internal", "is", "let", "nil",
        "open", "operator", "precedencegroup", "private", "protocol", "public", "repeat", "rethrows", "return",
        "self", "some", "static", "struct", "subscript", "super", "switch", "throw", "throws", "true", "try",
        "typealias", "var", "where", "while",
    ]
}
