/// Percent-decoding of URL paths and query components, without Foundation.
enum PercentEncoding {
    /// Decodes `%XX` escapes; malformed escapes stay as written, invalid UTF-8 is replaced.
    static func decode(_ text: Substring) -> String {
        unescaped(text, plusAsSpace: false).map { String(decoding: $0, as: UTF8.self) } ?? String(text)
    }

    /// Decodes `%XX` escapes of a path segment, or `nil` if they spell invalid UTF-8: replacing it would give
    /// different paths, such as `/files/%FF` and `/files/%FE`, the same parameter value.
    static func decodePathSegment(_ text: Substring) -> String? {
        guard let bytes = unescaped(text, plusAsSpace: false) else { return String(text) }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Decodes an `application/x-www-form-urlencoded` component: `+` is a space.
    static func decodeFormComponent(_ text: Substring) -> String {
        unescaped(text, plusAsSpace: true).map { String(decoding: $0, as: UTF8.self) } ?? String(text)
    }

    /// Decodes a CloudEvents attribute sent as an HTTP header, or `nil` when a `%` is not followed by two hex
    /// digits or the escapes spell invalid UTF-8 (overlong forms included): the HTTP binding makes both a
    /// malformed event. A double-quoted value is unquoted first, as the binding requires for older senders.
    static func decodeHeaderValue(_ value: Substring) -> String? {
        var text = value
        if text.utf8.count >= 2, text.first == "\"", text.last == "\"" {
            var unquoted = ""
            var escaped = false
            for character in text.dropFirst().dropLast() {
                if !escaped && character == "\\" {
                    escaped = true
                    continue
                }
                escaped = false
                unquoted.append(character)
            }
            text = unquoted[...]
        }
        guard let bytes = unescaped(text, plusAsSpace: false, strict: true) else { return String(text) }
        return bytes.isEmpty && !text.isEmpty ? nil : String(validating: bytes, as: UTF8.self)
    }

    /// Encodes a CloudEvents attribute for an HTTP header, as the binding asks: space, `"`, `%` and every byte
    /// outside printable ASCII as `%XX`.
    static func encodeHeaderValue(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            if byte <= 0x20 || byte >= 0x7f || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "%") {
                output += [UInt8(ascii: "%"), digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]]
            } else {
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` stands for, or `nil` when it has nothing to unescape; when `strict`, a malformed escape
    /// gives no bytes at all.
    private static func unescaped(_ text: Substring, plusAsSpace: Bool, strict: Bool = false) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.contains(UInt8(ascii: "%")) || (plusAsSpace && utf8.contains(UInt8(ascii: "+"))) else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"),
                let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first != utf8.endIndex,
                let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second != utf8.endIndex,
                let high = hexValue(utf8[first]), let low = hexValue(utf8[second])
            {
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
                continue
            }
            if strict && byte == UInt8(ascii: "%") { return [] }
            bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = utf8.index(after: index)
        }
        return bytes
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
