extension ManifestValue {
    /// Compact JSON in the tree's own order: no whitespace, `/` and non-ASCII text unescaped, so equal trees give
    /// equal bytes.
    ///
    /// ```swift
    /// let value: ManifestValue = ["path": "/agnost/ready", "port": 8080]
    /// String(decoding: value.jsonBytes(), as: UTF8.self)  // {"path":"/agnost/ready","port":8080}
    /// ```
    public func jsonBytes() -> [UInt8] {
        var output: [UInt8] = []
        writeJSON(to: &output)
        return output
    }

    private func writeJSON(to output: inout [UInt8]) {
        switch self {
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeJSONString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.writeJSON(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                item.writeJSON(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .string(let text): Self.writeJSONString(text, to: &output)
        case .integer(let number): output += Array(String(number).utf8)
        case .decimal(let text): output += Array(text.utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .null: output += Array("null".utf8)
        }
    }

    /// `text` as a JSON string literal, which is also a valid YAML double-quoted scalar.
    static func writeJSONString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): output += Array(#"\\"#.utf8)
            case 0x0A: output += Array(#"\n"#.utf8)
            case 0x0D: output += Array(#"\r"#.utf8)
            case 0x09: output += Array(#"\t"#.utf8)
            case 0x00..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                output += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Parses one JSON document, keeping the order of object keys. A repeated key keeps its first position and its
    /// last value, as Go's decoder (and so the API server) reads it.
    ///
    /// ```swift
    /// let status = try ManifestValue(json: Array(#"{"kind":"Status","code":404}"#.utf8))
    /// status["code"]?.integerValue  // 404
    /// ```
    public init(json bytes: [UInt8]) throws(ManifestError) {
        var parser = JSONParser(bytes: bytes)
        self = try parser.document()
    }
}

/// A recursive-descent parser for RFC 8259 JSON; Foundation's JSONSerialization loses the order of keys.
private struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Deeper documents are refused rather than risk the stack; Kubernetes objects nest a dozen levels.
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(ManifestError) -> ManifestValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected text after the JSON value") }
        return value
    }

    private func failure(_ problem: String) -> ManifestError {
        ManifestError(.invalidJSON, "not valid JSON: \(problem)", context: "byte \(position)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
            position += 1
        }
    }

    private mutating func parseValue(depth: Int) throws(ManifestError) -> ManifestValue {
        guard depth < Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) levels deep") }
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
        case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
        case UInt8(ascii: "n"): return try parseLiteral("null", .null)
        default: return try parseNumber()
        }
    }

    private mutating func parseObject(depth: Int) throws(ManifestError) -> ManifestValue {
        position += 1
        var members: [(key: String, value: ManifestValue)] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw failure("expected a string key")
            }
            let key = try parseString()
            try expect(UInt8(ascii: ":"))
            let value = try parseValue(depth: depth + 1)
            if let index = members.firstIndex(where: { $0.key == key }) {
                members[index].value = value
            } else {
                members.append((key, value))
            }
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end of input in an object") }
            position += 1
            switch bytes[position - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default:
                position -= 1
                throw failure("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(ManifestError) -> ManifestValue {
        position += 1
        var items: [ManifestValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw failure("unexpected end of input in an array") }
            position += 1
            switch bytes[position - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(items)
            default:
                position -= 1
                throw failure("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func expect(_ byte: UInt8) throws(ManifestError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        position += 1
    }

    private mutating func parseLiteral(_ word: String, _ value: ManifestValue) throws(ManifestError) -> ManifestValue {
        let expected = Array(word.utf8)
        guard bytes.count - position >= expected.count, Array(bytes[position..<position + expected.count]) == expected
        else {
            throw failure("unknown literal; expected \(word)")
        }
        position += expected.count
        return value
    }

    private mutating func parseNumber() throws(ManifestError) -> ManifestValue {
        let start = position
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        func digits() -> Int {
            let first = position
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
            return position - first
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            position = start
            throw failure("expected a value")
        }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            isInteger = false
            guard digits() > 0 else { throw failure("expected digits after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            isInteger = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw failure("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let number = Int(text) {
            return .integer(number)
        }
        return .decimal(text)
    }

    private mutating func parseString() throws(ManifestError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flushRun() throws(ManifestError) {
            guard runStart < position else { return }
            guard let text = String(validating: bytes[runStart..<position], as: UTF8.self) else {
                throw failure("a string is not valid UTF-8")
            }
            scalars.append(contentsOf: text.unicodeScalars)
        }
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                try flushRun()
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                try flushRun()
                position += 1
                scalars.append(try parseEscape())
                runStart = position
            case 0x00..<0x20:
                throw failure("a control character in a string must be escaped")
            default:
                position += 1
            }
        }
        throw failure("unterminated string")
    }

    private mutating func parseEscape() throws(ManifestError) -> Unicode.Scalar {
        guard position < bytes.count else { throw failure("unterminated escape") }
        position += 1
        switch bytes[position - 1] {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try parseHexQuad()
            guard (0xD800...0xDBFF).contains(unit) else {
                guard let scalar = Unicode.Scalar(unit) else { throw failure("a lone low surrogate in \\u escape") }
                return scalar
            }
            guard bytes.count - position >= 2, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else {
                throw failure("a high surrogate not followed by a low one")
            }
            position += 2
            let low = try parseHexQuad()
            guard (0xDC00...0xDFFF).contains(low),
                let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            else {
                throw failure("a high surrogate not followed by a low one")
            }
            return scalar
        default:
            position -= 1
            throw failure("unknown escape")
        }
    }

    private mutating func parseHexQuad() throws(ManifestError) -> UInt32 {
        guard bytes.count - position >= 4,
            bytes[position..<position + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
            let unit = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else {
            throw failure("\\u must be followed by four hex digits")
        }
        position += 4
        return unit
    }
}
