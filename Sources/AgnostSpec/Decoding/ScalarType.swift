/// How a scalar becomes a Swift value; `extract` returns nil when the scalar has the wrong type.
struct ScalarType<Value>: Sendable {
    /// What the value should be, for "expected …, found …" messages.
    let expected: String
    let extract: @Sendable (YAMLScalar) -> Value?
}

extension ScalarType<String> {
    /// Any scalar but null, as its text: `version: 1` is the string "1".
    static let string = ScalarType(expected: "a string") { scalar in
        if case .null = scalar.kind { return nil }
        return scalar.text
    }
}

extension ScalarType<Int> {
    static let integer = ScalarType(expected: "an integer") { scalar in
        guard case .integer(let value) = scalar.kind else { return nil }
        return value
    }
}

extension ScalarType<Bool> {
    static let boolean = ScalarType(expected: "true or false") { scalar in
        guard case .boolean(let value) = scalar.kind else { return nil }
        return value
    }
}
