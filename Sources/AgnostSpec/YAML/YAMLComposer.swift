import Yams

/// Stage 1: parses YAML text into a ``YAMLNode`` tree, reporting syntax errors as diagnostics.
struct YAMLComposer {
    let file: String
    /// The source as Unicode scalars, which is what libyaml's columns count.
    private var scalars: [Unicode.Scalar]
    /// Original texts of mapping keys renamed to get past Yams' duplicate-key check, by the key's position.
    private var renamedKeys: [Position: String] = [:]

    private struct Position: Hashable {
        var line: Int
        var column: Int
    }

    init(source: String, file: String) {
        self.file = file
        // libyaml skips a byte order mark without counting it as a column; dropping it keeps columns aligned here.
        scalars = Array(source.unicodeScalars.drop { $0 == "\u{FEFF}" })
    }

    /// The document's root node; nil (with a diagnostic) when the text is not YAML or holds no document.
    mutating func compose(diagnostics: inout DiagnosticCollector) -> YAMLNode? {
        while true {
            do {
                let text = String(String.UnicodeScalarView(scalars))
                guard let root = try Yams.compose(yaml: text, .default, .default, .utf8) else {
                    diagnostics.error(
                        "the file is empty; an agnost.yaml declares at least 'app' and 'version'",
                        at: location(line: 1, column: 1)
                    )
                    return nil
                }
                return convert(root, lines: lines())
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                // Yams refuses a whole document over one duplicated key, which would hide every other problem and
                // the position of the duplicate. Renaming the first occurrence (keeping every position intact)
                // lets composing continue; the decoder restores the name and reports the duplicate itself.
                let key = duplicates.first ?? ""
                guard renameKey(key, at: context.mark) else {
                    diagnostics.error("duplicate key '\(key)'; remove one of them", at: location(of: context.mark))
                    return nil
                }
            } catch let error as YamlError {
                diagnostics.error(Self.message(for: error), at: location(of: error))
                return nil
            } catch {
                diagnostics.error("invalid YAML: \(error)", at: location(line: 1, column: 1))
                return nil
            }
        }
    }

    /// Replaces the first character of the key at `mark` with a private-use character that no one types, and
    /// remembers the original text; false when the source there does not spell `key` simply enough to do so.
    private mutating func renameKey(_ key: String, at mark: Mark) -> Bool {
        let position = Position(line: mark.line, column: mark.column)
        guard renamedKeys[position] == nil, var index = scalarIndex(of: position) else { return false }
        if scalars[index] == "\"" || scalars[index] == "'" {
            index += 1
        }
        guard index < scalars.count, scalars[index] == key.unicodeScalars.first,
            !"\\'".unicodeScalars.contains(scalars[index]),
            let placeholder = Unicode.Scalar(0xE000 + renamedKeys.count)
        else { return false }
        scalars[index] = placeholder
        renamedKeys[position] = key
        return true
    }

    private func scalarIndex(of position: Position) -> Int? {
        var line = 1
        var lineStart = 0
        for (index, scalar) in scalars.enumerated() where line < position.line && scalar == "\n" {
            line += 1
            lineStart = index + 1
        }
        let index = lineStart + position.column - 1
        return line == position.line && index < scalars.count ? index : nil
    }

    private func lines() -> [ArraySlice<Unicode.Scalar>] {
        scalars.split(separator: "\n", omittingEmptySubsequences: false)
    }

    // MARK: Conversion

    private func convert(_ node: Node, lines: [ArraySlice<Unicode.Scalar>]) -> YAMLNode {
        let location = location(of: node.mark)
        switch node {
        case .scalar(let scalar):
            let yamlScalar = YAMLScalar(
                text: scalar.string,
                kind: Self.kind(of: scalar.string, tag: Tag.Name(rawValue: node.tag.rawValue)),
                verbatimColumn: verbatimColumn(of: scalar, at: location, lines: lines)
            )
            return YAMLNode(content: .scalar(yamlScalar), location: location)
        case .sequence(let sequence):
            return YAMLNode(content: .sequence(sequence.map { convert($0, lines: lines) }), location: location)
        case .mapping(let mapping):
            let pairs = mapping.map { key, value in
                YAMLNode.Pair(key: convertKey(key, lines: lines), value: convert(value, lines: lines))
            }
            return YAMLNode(content: .mapping(pairs), location: location)
        case .alias(let alias):
            // Yams' compose replaces aliases with the nodes they name; should one remain, it reads as its text.
            let text = "*\(alias.anchor.rawValue)"
            return YAMLNode(content: .scalar(YAMLScalar(text: text, kind: .string)), location: location)
        }
    }

    private func convertKey(_ key: Node, lines: [ArraySlice<Unicode.Scalar>]) -> YAMLNode {
        var converted = convert(key, lines: lines)
        let position = Position(line: converted.location.line, column: converted.location.column)
        if let original = renamedKeys[position] {
            converted.content = .scalar(YAMLScalar(text: original, kind: .string))
        }
        return converted
    }

    private static func kind(of text: String, tag: Tag.Name) -> YAMLScalar.Kind {
        switch tag {
        case .null:
            return .null
        case .bool:
            switch text {
            case "true", "True", "TRUE": return .boolean(true)
            case "false", "False", "FALSE": return .boolean(false)
            default: return .string
            }
        case .int:
            return Int(text).map(YAMLScalar.Kind.integer) ?? .number
        case .float:
            return .number
        default:
            return .string
        }
    }

    private func verbatimColumn(
        of scalar: Node.Scalar,
        at location: SourceLocation,
        lines: [ArraySlice<Unicode.Scalar>]
    ) -> Int? {
        let column: Int
        switch scalar.style {
        case .plain, .any: column = location.column
        case .singleQuoted, .doubleQuoted: column = location.column + 1
        case .literal, .folded: return nil
        }
        guard lines.indices.contains(location.line - 1) else { return nil }
        let line = lines[location.line - 1].dropFirst(column - 1)
        return line.starts(with: scalar.string.unicodeScalars) ? column : nil
    }

    // MARK: Locations and messages

    private func location(line: Int, column: Int) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    private func location(of mark: Mark?) -> SourceLocation {
        location(line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private func location(of error: YamlError) -> SourceLocation {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return location(of: mark)
        case .reader(_, let offset?, _, let yaml):
            let prefix = yaml.prefix(offset).unicodeScalars
            let lineStart = prefix.lastIndex(of: "\n").map(prefix.index(after:)) ?? prefix.startIndex
            let line = prefix.count { $0 == "\n" } + 1
            return location(line: line, column: prefix[lineStart...].count + 1)
        default:
            return location(line: 1, column: 1)
        }
    }

    private static func message(for error: YamlError) -> String {
        switch error {
        case .scanner(let context?, let problem, _, _), .parser(let context?, let problem, _, _),
            .composer(let context?, let problem, _, _):
            return
                "invalid YAML: \(problem) (\(context.text) at line \(context.mark.line), column \(context.mark.column))"
        case .scanner(nil, let problem, _, _), .parser(nil, let problem, _, _), .composer(nil, let problem, _, _),
            .reader(let problem, _, _, _):
            return "invalid YAML: \(problem)"
        default:
            return "invalid YAML: \(error)"
        }
    }
}
