/// Stage 2: walks the YAML tree into the model, reporting every value that does not fit and carrying on.
///
/// This file holds the generic readers; the sections of agnost.yaml are decoded in the `SpecDecoder+…` files.
struct SpecDecoder {
    var diagnostics: DiagnosticCollector
    var spec: DecodedSpec

    /// Decodes the document rooted at `root`; nil when it is not a mapping, which leaves nothing to validate.
    static func decode(_ root: YAMLNode, diagnostics: inout DiagnosticCollector) -> DecodedSpec? {
        guard case .mapping(let pairs) = root.content else {
            diagnostics.error(
                "the top level must be a mapping with keys like 'app', 'version' and 'endpoints', found "
                    + root.kindDescription,
                at: SourceLocation(file: root.location.file, line: 1, column: 1)
            )
            return nil
        }
        let document = MappingReader(pairs, at: root.location, schema: .topLevel, diagnostics: &diagnostics)
        var decoder = SpecDecoder(diagnostics: diagnostics, spec: DecodedSpec(location: root.location))
        decoder.decodeDocument(document)
        diagnostics = decoder.diagnostics
        return decoder.spec
    }

    /// The mapping under `key`; nil when absent or null (both mean "use the defaults") or not a mapping.
    mutating func mapping(_ key: String, in parent: MappingReader, schema: MappingSchema) -> MappingReader? {
        guard let node = parent[key], !node.isNull else { return nil }
        guard case .mapping(let pairs) = node.content else {
            reportTypeMismatch(expected: "a mapping", for: "'\(key)'", found: node)
            return nil
        }
        return MappingReader(pairs, at: node.location, schema: schema, diagnostics: &diagnostics)
    }

    /// The items of the list under `key`; empty when absent, null or not a list.
    mutating func list(_ key: String, in parent: MappingReader) -> [YAMLNode] {
        guard let node = parent[key], !node.isNull else { return [] }
        guard case .sequence(let items) = node.content else {
            reportTypeMismatch(expected: "a list", for: "'\(key)'", found: node)
            return []
        }
        return items
    }

    /// The items of the list under `key` that are mappings, each checked against `schema`.
    mutating func mappingItems(_ key: String, in parent: MappingReader, schema: MappingSchema) -> [MappingReader] {
        list(key, in: parent).compactMap { item in
            guard case .mapping(let pairs) = item.content else {
                reportTypeMismatch(expected: "a mapping", for: "each item of '\(key)'", found: item)
                return nil
            }
            return MappingReader(pairs, at: item.location, schema: schema, diagnostics: &diagnostics)
        }
    }

    /// The scalar under `key`, converted by `type` and then by `parse`; nil when absent or wrong (and reported).
    mutating func value<Raw, Value>(
        _ key: String,
        in mapping: MappingReader,
        as type: ScalarType<Raw>,
        parse: (Raw) throws(ValueError) -> Value
    ) -> Located<Value>? {
        guard let node = mapping[key] else { return nil }
        return value(of: node, label: "'\(key)'", as: type, parse: parse)
    }

    mutating func value<Value>(
        _ key: String,
        in mapping: MappingReader,
        as type: ScalarType<Value>
    ) -> Located<Value>? {
        value(key, in: mapping, as: type) { $0 }
    }

    /// `node` converted by `type` and then by `parse`. The location is the value's first character (after an
    /// opening quote), and errors from `parse` point at the character they name.
    mutating func value<Raw, Value>(
        of node: YAMLNode,
        label: String,
        as type: ScalarType<Raw>,
        parse: (Raw) throws(ValueError) -> Value
    ) -> Located<Value>? {
        guard let scalar = node.scalar, let raw = type.extract(scalar) else {
            reportTypeMismatch(expected: type.expected, for: label, found: node)
            return nil
        }
        do {
            return Located(try parse(raw), at: node.location(ofCharacterAt: 0))
        } catch {
            diagnostics.error(error.message, at: node.location(ofCharacterAt: error.offset ?? 0))
            return nil
        }
    }

    /// `text` checked by `parse`, with errors reported at its location.
    mutating func validated<Value>(
        _ text: Located<String>,
        parse: (String) throws(ValueError) -> Value
    ) -> Located<Value>? {
        do {
            return Located(try parse(text.value), at: text.location)
        } catch {
            diagnostics.error(error.message, at: text.location)
            return nil
        }
    }

    private mutating func reportTypeMismatch(expected: String, for label: String, found node: YAMLNode) {
        diagnostics.error("expected \(expected) for \(label), found \(node.kindDescription)", at: node.location)
    }
}

extension YAMLNode {
    fileprivate var isNull: Bool {
        guard case .null = scalar?.kind else { return false }
        return true
    }
}
