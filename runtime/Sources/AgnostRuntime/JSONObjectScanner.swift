/// The top-level members of a JSON object, each with the exact bytes of its value.
///
/// A structured-mode CloudEvent's `data` reaches the handler as the bytes its sender wrote, so that numbers keep
/// their precision and keys their order: decoding into values and encoding again would change both.
struct JSONObjectScanner {
    struct Member {
        enum Value {
            case string(String)
            /// A number, `true`, `false` or `null`, as written.
            case literal(String)
            /// An object or an array.
            case compound
        }

        let name: String
        let value: Value
        /// Where the value's bytes are in the document.
        let span: Range<Int>
    }

    struct Malformed: Error {
        let offset: Int
    }

    private let bytes: [UInt8]
    private var index = 0
    /// Deep enough for any real event; an attacker's deep nesting is refused instead of recursing without end.
    private static let maximumDepth = 512

    /// The members in document order; throws on anything that is not one well-formed JSON object.
    static func members(of bytes: [UInt8]) throws(Malformed) -> [Member] {
        var scanner = JSONObjectScanner(bytes: bytes)
        return try scanner.topLevelObject()
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private mutating func topLevelObject() throws(Malformed) -> [Member] {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        var members: [Member] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipWhitespace()
                let name = try string()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                let start = index
                let value: Member.Value
                switch peek() {
                case UInt8(ascii: "\""): value = .string(try string())
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    try skipValue(depth: 1)
                    value = .compound
                default:
                    try skipValue(depth: 1)
                    value = .literal(String(decoding: bytes[start..<index], as: UTF8.self))
                }
                members.append(Member(name: name, value: value, span: start..<index))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw Malformed(offset: index) }
        return members
    }

    private mutating func skipValue(depth: Int) throws(Malformed) {
        guard depth <= Self.maximumDepth else { throw Malformed(offset: index) }
        switch peek() {
        case UInt8(ascii: "\""):
            _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = peek() == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            index += 1
            skipWhitespace()
            if peek() == close {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                if isObject {
                    _ = try string()
                    skipWhitespace()
                    try expect(UInt8(ascii: ":"))
                    skipWhitespace()
                }
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(close)
                return
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Malformed) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            bytes[index..<index + count].elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw Malformed(offset: index) }
        index += count
    }

    private mutating func number() throws(Malformed) {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard skipDigits() > 0 else { throw Malformed(offset: start) }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw Malformed(offset: index) }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw Malformed(offset: index) }
        }
    }

    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }

    /// A string token, unescaped; invalid escapes, raw control characters and invalid UTF-8 are malformed.
    private mutating func string() throws(Malformed) -> String {
        try expect(UInt8(ascii: "\""))
        var output: [UInt8] = []
        while true {
            guard let byte = peek() else { throw Malformed(offset: index) }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: output, as: UTF8.self) else { throw Malformed(offset: index) }
                return text
            case UInt8(ascii: "\\"):
                guard let escaped = peek() else { throw Malformed(offset: index) }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escaped)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0c)
                case UInt8(ascii: "n"): output.append(0x0a)
                case UInt8(ascii: "r"): output.append(0x0d)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hexQuad()
                    if (0xd800..<0xdc00).contains(scalar) {
                        try expect(UInt8(ascii: "\\"))
                        try expect(UInt8(ascii: "u"))
                        let low = try hexQuad()
                        guard (0xdc00..<0xe000).contains(low) else { throw Malformed(offset: index) }
                        scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
                    }
                    guard let character = Unicode.Scalar(scalar) else { throw Malformed(offset: index) }
                    output.append(contentsOf: String(Character(character)).utf8)
                default: throw Malformed(offset: index)
                }
            case 0..<0x20: throw Malformed(offset: index)
            default: output.append(byte)
            }
        }
    }

    private mutating func hexQuad() throws(Malformed) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = PercentEncoding.hexValue(byte) else { throw Malformed(offset: index) }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard peek() == byte else { throw Malformed(offset: index) }
        index += 1
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d { index += 1 }
    }
}
