/// A YAML node with the position of everything in it: the tree the decoder walks.
///
/// Converted from Yams' nodes so that the rest of the module never deals with optional marks, resolver tags or
/// the duplicate-key workaround in ``YAMLComposer``.
struct YAMLNode {
    enum Content {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    struct Pair {
        var key: YAMLNode
        var value: YAMLNode
    }

    var content: Content
    var location: SourceLocation

    /// What the node is, for "expected …, found …" messages.
    var kindDescription: String {
        switch content {
        case .scalar(let scalar): scalar.kind.description
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    var scalar: YAMLScalar? {
        guard case .scalar(let scalar) = content else { return nil }
        return scalar
    }

    /// Where the character at `offset` of this scalar's text is, when the source spells the text verbatim;
    /// otherwise the node's own location.
    func location(ofCharacterAt offset: Int) -> SourceLocation {
        guard let scalar, let column = scalar.verbatimColumn, offset <= scalar.text.count else { return location }
        // Marks count Unicode scalars, offsets count Characters.
        let scalarsBefore = scalar.text.prefix(offset).unicodeScalars.count
        return SourceLocation(file: location.file, line: location.line, column: column + scalarsBefore)
    }
}

struct YAMLScalar {
    /// The types agnost.yaml tells apart. Only `true` and `false` are booleans, as in YAML 1.2: `yes`, `on` and
    /// friends are strings, and only decimal numbers are integers.
    enum Kind: CustomStringConvertible {
        case null
        case boolean(Bool)
        case integer(Int)
        case number
        case string

        var description: String {
            switch self {
            case .null: "null"
            case .boolean: "a boolean"
            case .integer: "an integer"
            case .number: "a number"
            case .string: "a string"
            }
        }
    }

    /// The scalar's value as written, after YAML unquoting.
    var text: String
    var kind: Kind
    /// The column where `text` begins in the source, when the source holds it verbatim on one line (plain, or
    /// quoted without escapes); nil otherwise.
    var verbatimColumn: Int?

    var isNull: Bool {
        if case .null = kind { true } else { false }
    }
}
