/// RFC 3986 percent-encoding.
enum PercentEncoding {
    /// `text` with every byte outside the unreserved set (`A-Z a-z 0-9 - . _ ~`) written as `%XX`.
    static func encode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            let character = Character(Unicode.Scalar(byte))
            if byte < 0x80, character.isASCIILetter || character.isASCIIDigit || "-._~".contains(character) {
                encoded.append(character)
            } else {
                encoded += "%" + hexDigits[Int(byte >> 4)] + hexDigits[Int(byte & 0xF)]
            }
        }
        return encoded
    }

    private static let hexDigits = Array("0123456789ABCDEF").map(String.init)
}
