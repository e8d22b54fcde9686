extension RoutePath {
    /// Parses and checks an endpoint path, explaining the first rule it breaks.
    static func parse(_ raw: String) throws(ValueError) -> RoutePath {
        guard raw.hasPrefix("/") else {
            throw ValueError("path '\(raw)' must start with '/'")
        }
        guard raw != "/" else { return RoutePath(raw: raw, segments: []) }
        let pieces = raw.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        var segments: [Segment] = []
        for (index, piece) in pieces.enumerated() {
            segments.append(try parseSegment(piece, isLast: index == pieces.count - 1, of: raw))
        }
        let path = RoutePath(raw: raw, segments: segments)
        if segments.first == .literal("agnost") {
            throw ValueError(
                "path '\(raw)' is reserved: paths under /agnost are reserved for health, readiness and event "
                    + "delivery; choose another path"
            )
        }
        let names = path.parameterNames
        if let repeated = names.enumerated().first(where: { names[..<$0.offset].contains($0.element) })?.element {
            throw ValueError(
                "path '\(raw)' uses the parameter ':\(repeated)' twice; give each parameter its own name"
            )
        }
        return path
    }

    private static func parseSegment(_ piece: Substring, isLast: Bool, of raw: String) throws(ValueError) -> Segment {
        if piece.isEmpty {
            throw ValueError(
                isLast
                    ? "path '\(raw)' ends with '/'; remove the trailing '/'"
                    : "path '\(raw)' has an empty segment; remove the extra '/'"
            )
        }
        if piece.first == ":" {
            let name = piece.dropFirst()
            guard !name.isEmpty else {
                throw ValueError("path '\(raw)' has a parameter without a name; write a name after ':', like ':id'")
            }
            guard SwiftIdentifier.isValid(name) else {
                throw ValueError(
                    "path parameter ':\(name)' is not a valid name; start with a letter or '_' and use only letters, "
                        + "digits and '_'"
                )
            }
            return .parameter(String(name))
        }
        if piece == "." || piece == ".." {
            throw ValueError("path '\(raw)' contains the segment '\(piece)', which clients collapse; remove it")
        }
        try checkLiteral(piece, of: raw)
        return .literal(String(piece))
    }

    /// Literal segments may hold unreserved characters, sub-delimiters, `%XX`, and `:` or `@` after the first
    /// character (a leading `:` would start a parameter).
    private static func checkLiteral(_ segment: Substring, of raw: String) throws(ValueError) {
        var index = segment.startIndex
        while index < segment.endIndex {
            let character = segment[index]
            if character == "%" {
                let digits = segment[segment.index(after: index)...].prefix(2)
                guard digits.count == 2, digits.allSatisfy(\.isASCIIHexDigit) else {
                    throw ValueError(
                        "path '\(raw)' has a '%' that is not followed by two hex digits; write a literal '%' as '%25'"
                    )
                }
                index = segment.index(index, offsetBy: 3)
                continue
            }
            let isAllowedAnywhere =
                character.isASCIILetter || character.isASCIIDigit || "-._~!$&'()*+,;=".contains(character)
            let isAllowedHere = isAllowedAnywhere || (index != segment.startIndex && ":@".contains(character))
            guard isAllowedHere else {
                let encoded = PercentEncoding.encode(String(character))
                let place = ":@".contains(character) ? "at the start of a segment" : "in a URL path"
                throw ValueError(
                    "path '\(raw)' contains '\(character)', which is not allowed \(place); write it as '\(encoded)'"
                )
            }
            index = segment.index(after: index)
        }
    }
}
