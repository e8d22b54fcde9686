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

    /// The bytes `text` stands for, or `nil` when it has nothing to unescape.
    private static func unescaped(_ text: Substring, plusAsSpace: Bool) -> [UInt8]? {
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
            bytes.append(plusAsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = utf8.index(after: index)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
