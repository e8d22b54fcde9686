extension ManifestValue {
    /// Block-style YAML in the tree's order, laid out as `kubectl get -o yaml` does (sequence items at the indent
    /// of their key), ending in a newline.
    ///
    /// Strings stay plain only when no YAML 1.1 or 1.2 reader can take them for anything else; the rest are
    /// double-quoted: `"true"`, `"on"`, `"0"`, `"1.0"`, `"null"`, `"~"`, text with `": "` or `" #"`, leading or
    /// trailing spaces, line breaks.
    ///
    /// ```swift
    /// let value: ManifestValue = ["metadata": ["annotations": ["autoscaling.knative.dev/min-scale": "0"]]]
    /// value.yaml()
    /// // metadata:
    /// //   annotations:
    /// //     autoscaling.knative.dev/min-scale: "0"
    /// ```
    public func yaml() -> String {
        var lines: [String] = []
        switch self {
        case .object(let members) where !members.isEmpty: appendYAMLMembers(members, indent: 0, to: &lines)
        case .array(let items) where !items.isEmpty: appendYAMLItems(items, indent: 0, to: &lines)
        default: lines.append(yamlInline)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The value on one line: a scalar, or an empty collection.
    private var yamlInline: String {
        switch self {
        case .object: "{}"
        case .array: "[]"
        case .string(let text): Self.yamlScalar(text)
        case .integer(let number): String(number)
        case .decimal(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null: "null"
        }
    }

    private var isNonEmptyCollection: Bool {
        switch self {
        case .object(let members): !members.isEmpty
        case .array(let items): !items.isEmpty
        default: false
        }
    }

    private func appendYAMLMembers(
        _ members: [(key: String, value: ManifestValue)],
        indent: Int,
        to lines: inout [String]
    ) {
        let padding = String(repeating: " ", count: indent)
        for (key, value) in members {
            let label = padding + Self.yamlScalar(key) + ":"
            switch value {
            case .object(let children) where !children.isEmpty:
                lines.append(label)
                appendYAMLMembers(children, indent: indent + 2, to: &lines)
            case .array(let items) where !items.isEmpty:
                lines.append(label)
                appendYAMLItems(items, indent: indent, to: &lines)
            default:
                lines.append(label + " " + value.yamlInline)
            }
        }
    }

    /// Each item starts with `- ` at `indent`; a collection item continues on that line, its other lines indented
    /// by two more.
    private func appendYAMLItems(_ items: [ManifestValue], indent: Int, to lines: inout [String]) {
        let padding = String(repeating: " ", count: indent)
        for item in items {
            guard item.isNonEmptyCollection else {
                lines.append(padding + "- " + item.yamlInline)
                continue
            }
            var nested: [String] = []
            switch item {
            case .object(let members): appendYAMLMembers(members, indent: indent + 2, to: &nested)
            case .array(let children): appendYAMLItems(children, indent: indent + 2, to: &nested)
            default: break
            }
            nested[0] = padding + "- " + nested[0].dropFirst(indent + 2)
            lines += nested
        }
    }

    /// Words that YAML 1.1 readers (Go's yaml.v2 in kubectl, Yams) or YAML 1.2 readers take for booleans or null.
    private static let reservedWords: Set<String> = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]

    /// `text` plain when that reads back as the same string everywhere, else double-quoted.
    static func yamlScalar(_ text: String) -> String {
        guard needsQuotes(text) else { return text }
        var bytes: [UInt8] = []
        writeJSONString(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Plain text must start with a letter, `/` or `_` (so never a number, a date, an indicator or `~`), hold only
    /// printable ASCII without YAML's flow and comment characters, and not be a reserved word.
    private static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return true }
        let isLetter = { (scalar: Unicode.Scalar) in ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        let isDigit = { (scalar: Unicode.Scalar) in ("0"..."9").contains(scalar) }
        guard isLetter(first) || first == "/" || first == "_", last != " ", last != ":" else { return true }
        let isSafe = text.unicodeScalars.allSatisfy { scalar in
            isLetter(scalar) || isDigit(scalar) || " -._/:=+@%()".unicodeScalars.contains(scalar)
        }
        return !isSafe || text.contains(": ") || text.contains(" #") || reservedWords.contains(text.lowercased())
    }
}
